"""Questions asked in a message box: a sentence, a paragraph below it, and buttons named
for what they do, one of them the default (Return) and one the answer to Esc."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

Role = QMessageBox.ButtonRole


def question(
    parent: QWidget | None,
    title: str,
    text: str,
    info: str,
    buttons: list[tuple[str, Role]],
    default: str,
    escape: str | None = None,
    icon: QMessageBox.Icon = QMessageBox.Icon.Question,
) -> QMessageBox:
    """The message box, not shown yet: `buttons` are (label, role) in order; `default`
    and `escape` (the default's label unless given) name two of them."""
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(info)
    made = {label: box.addButton(label, role) for label, role in buttons}
    box.setDefaultButton(made[default])
    box.setEscapeButton(made[escape or default])
    return box


def ask(box: QMessageBox) -> str:
    """Ask (modal) with a box from `question`; the label of the button chosen (Esc: the
    escape button's)."""
    box.exec()
    clicked = box.clickedButton() or box.escapeButton()
    return clicked.text() if clicked is not None else ""


QUIT_AND_STOP = "Quit and stop counting"
KEEP_COUNTING = "Keep counting (minimize)"


def quit_question(parent: QWidget, cameras: int, live: int) -> QMessageBox:
    """Before closing a window that counts: there is no background service, so a closed
    window counts nobody; minimizing keeps it counting."""
    cams = "1 camera" if cameras == 1 else f"{cameras} cameras"
    return question(
        parent,
        "Quit Vitrine?",
        f"Quitting stops Vitrine watching {cams} ({live} live now).",
        "Nobody is counted while Vitrine is closed, until it is opened again. To keep "
        "counting, minimize the window instead.",
        [
            (QUIT_AND_STOP, Role.DestructiveRole),
            (KEEP_COUNTING, Role.AcceptRole),
            ("Cancel", Role.RejectRole),
        ],  # fmt: skip
        default=KEEP_COUNTING,
        escape="Cancel",
    )
