# check-dns: what each check found and the fix (src/check/).
