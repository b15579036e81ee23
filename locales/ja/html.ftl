# htmlコマンドのHTMLページ（src/insight/html/）。
