# The HTML page of `html` (src/insight/html/).
