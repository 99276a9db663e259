"""Customer screens: the list page, the file, the form, the merge dialog."""
