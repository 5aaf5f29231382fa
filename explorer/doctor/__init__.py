"""System check ("doctor"): versions, devices, and a tiny real run of every path a user can pick.

`python -m explorer doctor` prints it; the Train page's "System check" panel shows it as a table.
Import `explorer.doctor.core` for the functions (it imports torch; this package file does not).
"""
