# Table titles, labels and notes of summary, sources and policy (src/insight/render/).
