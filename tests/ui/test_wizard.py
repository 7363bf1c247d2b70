"""First-run wizard and the camera form: validation, test connection, persistence."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QWizard

from app.config import AppConfig
from app.store.secrets import open_vault
from app.ui.app import DesktopApp
from app.ui.camera_dialog import CameraDialog, CameraForm
from app.ui.config_store import config_path, load_startup_config, read_saved, save_config
from app.ui.wizard import FirstRunWizard
from app.ui.workers import Background
from tests.conftest import PETS_CLIP


@pytest.fixture
def background():  # noqa: ANN201
    bg = Background()
    yield bg
    bg.shutdown()


@pytest.fixture(autouse=True)
def quitting_without_a_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a wizard at teardown (Cancel) does not stop at the message box."""
    monkeypatch.setattr(FirstRunWizard, "ask_before_quitting", lambda self: True)


def test_wizard_validates_each_page_and_saves_to_the_store(qtbot, store, background) -> None:  # noqa: ANN001
    desktop = DesktopApp(store)
    assert desktop.first_run
    wiz = FirstRunWizard(background, desktop.cfg)
    qtbot.addWidget(wiz)
    wiz.show()
    page0 = wiz.currentId()
    wiz.store_page.name.setText("   ")
    wiz.next()
    assert wiz.currentId() == page0 and "name" in wiz.store_page.error.text()
    wiz.store_page.name.setText("Rivoli")
    wiz.store_page.tz.setCurrentText("Mars/Olympus")
    wiz.next()
    assert wiz.currentId() == page0 and "time zone" in wiz.store_page.error.text()
    wiz.store_page.tz.setCurrentText("Europe/Paris")
    wiz.next()
    assert wiz.currentPage() is wiz.privacy_page
    assert wiz.privacy_page.anonymous.isChecked()  # anonymous is the default
    # every mode says what it keeps, for how long and who sees it; no false promise
    notes = " ".join(w.text() for w in wiz.privacy_page.findChildren(QLabel) if w.text())
    assert "keeps no faces and nothing that could identify anyone" not in notes
    assert "7 days" in notes and "tablets" in notes and "30 days" in notes
    # repeat visitors needs the notice confirmed
    wiz.privacy_page.chooser.buttons["repeat_visitors"].setChecked(True)
    wiz.next()
    assert wiz.currentPage() is wiz.privacy_page and "notice" in wiz.privacy_page.error.text()
    wiz.privacy_page.anonymous.setChecked(True)
    wiz.next()
    form = wiz.camera_page.form
    form.set_kind("file")
    form.path.setText("/nonexistent/clip.mp4")
    wiz.next()
    assert (
        wiz.currentPage() is wiz.camera_page
        and "no such video file" in wiz.camera_page.error.text()
    )
    form.name.setText("Front")
    form.path.setText(str(PETS_CLIP))
    wiz.next()  # tests the camera first (a picture from the clip), then moves on
    qtbot.waitUntil(lambda: wiz.currentPage() is wiz.done_page, timeout=30000)
    assert "Rivoli" in wiz.done_page.summary.text() and form.snapshot is not None
    wiz.button(QWizard.WizardButton.FinishButton).click()
    cfg = wiz.result_config()
    assert cfg is not None and cfg.store.name == "Rivoli" and cfg.store.privacy_mode == "anonymous"
    assert [(c.name, c.type, c.url) for c in cfg.cameras] == [("Front", "file", str(PETS_CLIP))]
    # the demo clip comes with a zone and a counting line, so the first look shows counts
    assert [z.name for z in cfg.zones] == ["Plaza"] and [ln.name for ln in cfg.lines] == ["Path"]
    assert cfg.zones[0].camera == cfg.lines[0].camera == "Front"

    assert desktop.finish_wizard(wiz)
    saved, has_identity = read_saved(store)
    assert has_identity and saved is not None and saved.store.name == "Rivoli"
    assert "Rivoli" in config_path().read_text()
    again, first_run = load_startup_config(store)
    assert not first_run and again.cameras[0].name == "Front"
    desktop.close()


def test_password_is_masked_kept_in_the_store_and_never_written_or_logged(
    qtbot, store, background, caplog
) -> None:  # noqa: ANN001
    caplog.set_level(logging.DEBUG)
    form = CameraForm(background)
    qtbot.addWidget(form)
    form.set_kind("rtsp")
    form.name.setText("Door")
    form.url.setText("rtsp://192.0.2.7:554/live")
    form.user.setText("admin")
    form.password.setText("s3cret-Pa55")
    assert form.password.echoMode() == QLineEdit.EchoMode.Password
    cam = form.camera_config()
    assert cam.password.get_secret_value() == "s3cret-Pa55"
    assert "s3cret" not in repr(cam)
    cfg = AppConfig(cameras=[cam])
    save_config(store, cfg).result(timeout=10)
    assert "s3cret" not in config_path().read_text()
    saved, _ = read_saved(store)  # the settings row has no secret: the vault keeps it
    assert saved is not None and not saved.cameras[0].password.get_secret_value()
    assert open_vault(store).load() == {"cameras.Door.password": "s3cret-Pa55"}
    again, _ = load_startup_config(store)  # TOML without secrets + secrets from the vault
    assert again.cameras[0].password.get_secret_value() == "s3cret-Pa55"
    assert "s3cret" not in caplog.text


def test_test_connection_shows_a_snapshot_without_blocking(qtbot, background) -> None:  # noqa: ANN001
    form = CameraForm(background)
    qtbot.addWidget(form)
    form.set_kind("demo")
    form.test_connection()
    assert not form.test_button.isEnabled()  # returned at once, work is in a thread
    qtbot.waitUntil(lambda: form.snapshot is not None, timeout=15000)
    assert form.snapshot is not None and form.snapshot.shape == (360, 480, 3)
    assert "480×360" in form.result.text()
    assert not form.preview.pixmap().isNull()


def test_failed_connection_gives_a_readable_message(qtbot, background) -> None:  # noqa: ANN001
    form = CameraForm(background)
    qtbot.addWidget(form)
    form.set_kind("rtsp")
    form.url.setText("rtsp://127.0.0.1:9/none")
    form.user.setText("u")
    form.password.setText("hidden-pw")
    with qtbot.waitSignal(form.tested, timeout=30000) as sig:
        form.test_connection()
    ok, msg = sig.args
    assert not ok and msg.startswith("No picture") and "hidden-pw" not in msg
    form.url.setText("not a url")
    form.test_connection()
    assert "rtsp://" in form.result.text()


def test_camera_dialog_refuses_a_taken_name(qtbot, background) -> None:  # noqa: ANN001
    dlg = CameraDialog(background, {"Front"})
    qtbot.addWidget(dlg)
    dlg.form.set_kind("file")
    dlg.form.name.setText("Front")
    dlg.form.path.setText(str(PETS_CLIP))
    dlg._save()
    assert "already called" in dlg.error.text() and dlg.result_camera is None
    dlg.form.name.setText("Back")
    dlg._save()  # tested first (a picture from the clip), then saved
    qtbot.waitUntil(lambda: dlg.result_camera is not None, timeout=30000)
    assert dlg.result_camera is not None and dlg.result_camera.name == "Back"


def test_passphrase_dialog_checks_its_input(qtbot) -> None:  # noqa: ANN001
    from app.ui.app import PassphraseDialog

    dlg = PassphraseDialog(creating=True)
    qtbot.addWidget(dlg)
    dlg.passphrase.setText("short")
    dlg._ok()
    assert "8 characters" in dlg.error.text() and dlg.result() == 0
    dlg.passphrase.setText("long enough phrase")
    dlg.confirm.setText("something else")
    dlg._ok()
    assert "differ" in dlg.error.text()
    dlg.confirm.setText("long enough phrase")
    dlg._ok()
    assert dlg.result() == 1


def test_store_without_keychain_asks_for_the_passphrase(qtbot, monkeypatch) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QDialog

    from app.ui import app as ui_app

    monkeypatch.delenv("VITRINE_STORE_PASSPHRASE", raising=False)
    asked: list[bool] = []

    def fake_exec(self) -> int:  # noqa: ANN001
        asked.append(self.creating)
        self.passphrase.setText("correct horse battery")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ui_app.PassphraseDialog, "exec", fake_exec)
    store = ui_app.open_store_interactive()
    assert store is not None
    store.close()
    if not asked:
        pytest.skip("this machine has a secure keychain: no passphrase needed")
    assert asked == [True]  # a new store: choose a passphrase
    monkeypatch.setattr(ui_app.PassphraseDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert ui_app.open_store_interactive() is None  # the user gave up: no traceback


def test_no_display_is_detected_for_a_clear_message(monkeypatch) -> None:  # noqa: ANN001
    import sys

    from app.ui.app import no_display

    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert no_display()
    monkeypatch.setenv("DISPLAY", ":99")
    assert not no_display()
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert not no_display()


def test_wizard_asks_before_keeping_a_camera_that_gave_no_picture(
    qtbot, store, background, monkeypatch
) -> None:  # noqa: ANN001
    from PySide6.QtCore import Qt

    from app.ui import camera_dialog

    asked: list[str] = []
    answer = [False]

    def confirm(_parent: object, why: str) -> bool:
        asked.append(why)
        return answer[0]

    monkeypatch.setattr(camera_dialog, "confirm_failed_camera", confirm)
    desktop = DesktopApp(store)
    wiz = FirstRunWizard(background, desktop.cfg)
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.store_page.name.setText("Rivoli")
    wiz.next()
    wiz.next()
    assert wiz.currentPage() is wiz.camera_page
    form = wiz.camera_page.form
    form.set_kind("rtsp")
    form.url.setText("rtsp://127.0.0.1:9/none")
    with qtbot.waitSignal(form.tested, timeout=30000) as sig:
        form.test_connection()
    assert sig.args[0] is False
    wiz.next()  # "Go back"
    assert wiz.currentPage() is wiz.camera_page and len(asked) == 1
    assert asked[0].startswith("No picture") and "127.0.0.1:9" in asked[0]
    # editing the address makes the failed test stale: its message goes, no question
    qtbot.keyClicks(form.url, "0")
    assert form.result.text() == "" and form.failed_test(form.camera_config()) is None
    qtbot.keyClick(form.url, Qt.Key.Key_Backspace)
    assert form.failed_test(form.camera_config()) is None  # same address, but not tested
    # Next on an untested camera tests it first, then asks (no picture: "Go back")
    with qtbot.waitSignal(form.tested, timeout=30000):
        wiz.next()
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=5000)
    assert wiz.currentPage() is wiz.camera_page
    answer[0] = True
    wiz.next()  # the failed test is known now: asked at once, "Add anyway"
    assert wiz.currentPage() is wiz.done_page and len(asked) == 3
    desktop.close()


def test_camera_dialog_asks_before_saving_a_camera_that_gave_no_picture(
    qtbot, background, monkeypatch
) -> None:  # noqa: ANN001
    from app.ui import camera_dialog

    answers = [False, True]
    monkeypatch.setattr(camera_dialog, "confirm_failed_camera", lambda _p, _w: answers.pop(0))
    dlg = CameraDialog(background, set())
    qtbot.addWidget(dlg)
    dlg.form.set_kind("rtsp")
    dlg.form.name.setText("Door")
    dlg.form.url.setText("rtsp://127.0.0.1:9/none")
    with qtbot.waitSignal(dlg.form.tested, timeout=30000):
        dlg.form.test_connection()
    dlg._save()
    assert dlg.result_camera is None and answers == [True]
    dlg._save()
    assert dlg.result_camera is not None and answers == []


def test_demo_clip_is_found_beside_the_models_directory(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from app.paths import demo_clip

    clip = tmp_path / "shared" / "media" / "video" / "pets09_s2l1_480x360.avi"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"not really a video, but a file")
    monkeypatch.delenv("VITRINE_DEMO_CLIP", raising=False)
    monkeypatch.setenv("VITRINE_MODELS_DIR", str(tmp_path / "shared" / "models"))
    assert demo_clip() == clip


def test_a_video_file_camera_always_plays_at_its_own_pace(qtbot, background) -> None:  # noqa: ANN001
    # read as fast as it decodes, a file would be over in seconds with few frames analysed
    form = CameraForm(background)
    qtbot.addWidget(form)
    form.set_kind("file")
    form.name.setText("Recording")
    form.path.setText(str(PETS_CLIP))
    for loop in (True, False):
        form.loop.setChecked(loop)
        cam = form.camera_config()
        assert (cam.type, cam.loop, cam.realtime) == ("file", loop, True)


def test_camera_page_names_the_new_kind_and_drops_the_old_snapshot(qtbot, background) -> None:  # noqa: ANN001
    from app.ui.camera_dialog import NO_SNAPSHOT

    wiz = FirstRunWizard(background, AppConfig())
    qtbot.addWidget(wiz)
    form = wiz.camera_page.form
    assert form.kind_key() == "demo" and form.name.text() == "Demo camera"
    with qtbot.waitSignal(form.tested, timeout=15000):
        form.test_connection()
    assert form.snapshot is not None and not form.preview.pixmap().isNull()
    form.set_kind("rtsp")
    assert form.name.text() == "Entrance"  # not "Demo camera" for a network camera
    assert form.snapshot is None and form.preview.pixmap().isNull()
    assert form.preview.text() == NO_SNAPSHOT
    form.set_kind("file")
    assert form.name.text() == "Entrance"
    form.set_kind("demo")
    assert form.name.text() == "Demo camera"
    form.name.clear()
    qtbot.keyClicks(form.name, "Back door")  # a typed name is kept whatever the kind
    form.set_kind("file")
    assert form.name.text() == "Back door"


def test_a_snapshot_that_arrives_after_the_kind_changed_is_not_shown(qtbot, background) -> None:  # noqa: ANN001
    form = CameraForm(background)
    qtbot.addWidget(form)
    form.set_kind("demo")
    form.test_connection()
    form.set_kind("file")  # before the picture arrives (it is delivered on this thread)
    qtbot.waitUntil(form.test_button.isEnabled, timeout=15000)
    assert form.snapshot is None and form.preview.pixmap().isNull()
    assert form.result.text() == ""


def test_editing_a_camera_keeps_its_name_when_its_kind_changes(qtbot, background) -> None:  # noqa: ANN001
    from app.config import CameraConfig

    cam = CameraConfig(name="Entrance", type="file", url=str(PETS_CLIP), loop=True)
    dlg = CameraDialog(background, {"Entrance"}, cam)
    qtbot.addWidget(dlg)
    dlg.form.set_kind("demo")
    assert dlg.form.name.text() == "Entrance"
    add = CameraDialog(background, {"Front"})  # a new camera's suggested name stays too
    qtbot.addWidget(add)
    name = add.form.name.text()
    add.form.set_kind("file")
    assert add.form.name.text() == name == "Camera 2"


def test_cancel_asks_before_quitting_setup(qtbot, background, monkeypatch) -> None:  # noqa: ANN001
    """Cancel (or Esc) asks first, "Keep setting up" being the default: a slip of the
    hand does not close Vitrine and lose what was typed."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    monkeypatch.undo()  # the real question
    wiz = FirstRunWizard(background, AppConfig())
    qtbot.addWidget(wiz)
    wiz.show()
    wiz.store_page.name.setText("Rivoli")
    seen: list[str] = []

    def answer(label: str) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        seen.append(box.defaultButton().text())
        next(b for b in box.buttons() if b.text() == label).click()

    QTimer.singleShot(0, lambda: answer("Keep setting up"))
    wiz.reject()
    assert wiz.isVisible() and wiz.store_page.name.text() == "Rivoli"
    assert seen == ["Stop setting up Vitrine and close it?", "Keep setting up"]
    QTimer.singleShot(0, lambda: answer("Close Vitrine"))
    wiz.reject()
    assert not wiz.isVisible() and wiz.result() == wiz.DialogCode.Rejected


def test_a_missing_demo_clip_is_said_once(qtbot, background, monkeypatch) -> None:  # noqa: ANN001
    """Without the demo clip, choosing the demo camera says so under the choice; Next
    does not repeat the same paragraph in red below it."""
    from app.ui import camera_dialog
    from app.ui import wizard as wizard_module
    from app.ui.camera_dialog import DEMO_MISSING

    monkeypatch.setattr(camera_dialog, "demo_clip", lambda: None)
    monkeypatch.setattr(wizard_module, "demo_clip", lambda: None)
    wiz = FirstRunWizard(background, AppConfig())
    qtbot.addWidget(wiz)
    page = wiz.camera_page
    assert page.form.kind_key() == "rtsp"  # not offered first when it is missing
    page.form.set_kind("demo")
    assert page.form.demo_note.text() == DEMO_MISSING
    assert not page.validatePage()
    assert page.error.text() == ""
    page.form.set_kind("rtsp")
    assert not page.validatePage()  # no address: that one is said by the page
    assert page.error.text() != ""


def test_find_cameras_on_the_network_fills_the_address(qtbot, background) -> None:  # noqa: ANN001
    """Issue 23: ONVIF discovery from the camera form, against a fake camera (a real UDP
    WS-Discovery responder and a real SOAP server on 127.0.0.1)."""
    from tests.vision.onvif_fake import FakeOnvifCamera

    cam = FakeOnvifCamera(password="pw")
    try:
        form = CameraForm(background)
        qtbot.addWidget(form)
        form.resize(560, 600)
        form.show()
        form.set_kind("rtsp")
        form.finder.target, form.finder.timeout_s = cam.probe_target, 0.6
        assert form.finder.button.text() == "Find cameras on the network"
        form.user.setText("admin")
        form.password.setText("wrong")
        form.finder.button.click()
        assert not form.finder.button.isEnabled() and form.finder.progress.isVisible()
        qtbot.waitUntil(lambda: form.finder.button.isEnabled(), timeout=10000)
        assert form.finder.list.count() == 1
        assert "refused the user name or password" in form.finder.list.item(0).text()
        assert "type them and search again" in form.finder.status.text()
        form.password.setText("pw")
        form.finder.button.click()
        qtbot.waitUntil(lambda: form.finder.button.isEnabled(), timeout=10000)
        assert form.finder.status.text() == "Found 1 camera: choose one to fill in its address."
        item = form.finder.list.item(0)
        assert item.text() == "Shop door (127.0.0.1): rtsp://127.0.0.1:8554/Streaming/Channels/101"
        form.finder.list.itemClicked.emit(item)
        assert form.url.text() == "rtsp://127.0.0.1:8554/Streaming/Channels/101"
        assert form.name.text() == "Shop door"  # the suggested name gives way to the camera's
        # the kind's own fields line up with Name and Kind
        x = form.name.mapTo(form, form.name.rect().topLeft()).x()
        assert abs(form.url.mapTo(form, form.url.rect().topLeft()).x() - x) <= 1
    finally:
        cam.close()


@pytest.mark.parametrize("kind", ["rtsp", "demo"])
def test_the_wizard_shows_the_whole_snapshot_at_its_smallest(qtbot, background, kind: str) -> None:  # noqa: ANN001
    """Issue 23: the snapshot was cut off at the bottom of the wizard's camera page."""
    from PySide6.QtWidgets import QWizard

    from app.ui.wizard import FirstRunWizard

    wiz = FirstRunWizard(background)
    qtbot.addWidget(wiz)
    wiz.resize(wiz.minimumSize())
    wiz.show()
    wiz.store_page.name.setText("Rivoli")
    wiz.next()
    wiz.next()
    form = wiz.camera_page.form
    form.set_kind(kind)
    qtbot.wait(50)
    preview_bottom = form.preview.mapTo(wiz, form.preview.rect().bottomLeft()).y()
    nxt = wiz.button(QWizard.WizardButton.NextButton)
    assert preview_bottom < nxt.mapTo(wiz, nxt.rect().topLeft()).y() - 10
    assert form.preview.height() >= 150
    if kind == "rtsp":  # the finder's button whole, not squeezed
        assert form.finder.button.height() >= form.finder.button.minimumSizeHint().height()
    wiz.ask_before_quitting = lambda: True  # type: ignore[method-assign]
