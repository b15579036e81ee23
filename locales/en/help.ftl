# --help of every command and option (src/main.rs).
