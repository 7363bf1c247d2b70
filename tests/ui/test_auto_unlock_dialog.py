"""The desktop's passphrase dialog: "Unlock automatically on this computer", the recovery
key shown once, and the re-enter-passphrase path when the computer changed."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from app.store import unlock
from app.store.db import default_path
from app.ui import app as ui_app

PASSPHRASE = "correct horse battery"


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """The dialog answers PASSPHRASE with the box ticked as `tick[0]` says; what it was
    shown (error text, box state) and the recovery keys shown are recorded."""
    monkeypatch.delenv("VITRINE_STORE_PASSPHRASE", raising=False)
    seen: dict[str, list] = {"asked": [], "recovery": [], "tick": [True]}

    def fake_exec(self: ui_app.PassphraseDialog) -> int:
        seen["asked"].append((self.error.text(), self.auto_unlock.isChecked()))
        self.passphrase.setText(PASSPHRASE)
        self.confirm.setText(PASSPHRASE)
        self.auto_unlock.setChecked(seen["tick"][0])
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ui_app.PassphraseDialog, "exec", fake_exec)
    monkeypatch.setattr(ui_app, "show_recovery_key", lambda k, p: seen["recovery"].append(k))
    return seen


def _open() -> None:
    store = ui_app.open_store_interactive()
    assert store is not None
    store.close()


def test_ticked_box_unlocks_at_the_next_start(qtbot, dialogs, monkeypatch) -> None:  # noqa: ANN001
    dlg = ui_app.PassphraseDialog(creating=False)
    qtbot.addWidget(dlg)
    assert dlg.auto_unlock.text() == "Unlock automatically on this computer"
    assert not dlg.auto_unlock.isChecked()  # off unless chosen

    _open()  # a new store: passphrase chosen, box ticked
    assert len(dialogs["asked"]) == 1 and len(dialogs["recovery"]) == 1
    assert unlock.looks_like_recovery_key(dialogs["recovery"][0])
    assert unlock.auto_path(default_path()).exists()
    _open()  # the next start: nothing asked
    assert len(dialogs["asked"]) == 1

    monkeypatch.setattr(unlock, "machine_id", lambda: "a-new-motherboard")
    _open()  # another computer: asked again, saying why, the box still ticked
    error, ticked = dialogs["asked"][-1]
    assert "another computer" in error and ticked
    assert len(dialogs["recovery"]) == 1  # the recovery key is not shown again
    _open()  # bound to the new computer now
    assert len(dialogs["asked"]) == 2

    unlock.remove_auto(default_path())
    dialogs["tick"][0] = False
    _open()
    assert not unlock.auto_path(default_path()).exists()
