# The weekly digest mail (src/insight/digest/).
