# 各コマンドとオプションの--help（src/main.rs）。
