"""The rules. One entry point per operation; they raise `waypost.errors`, never HTTP."""
