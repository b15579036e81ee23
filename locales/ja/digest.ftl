# 週次ダイジェストメール（src/insight/digest/）。
