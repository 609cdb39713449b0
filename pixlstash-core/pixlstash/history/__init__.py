"""The undo history: a journal that every change a person makes writes its steps to, each kind's undo and redo
beside it."""
