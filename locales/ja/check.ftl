# check-dns：各チェックの結果と対処方法（src/check/）。
