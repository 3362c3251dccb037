"""What people use: the ``newsbot`` command line and the web app (nothing below imports these)."""
