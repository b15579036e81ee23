# summary、sources、policyの表の見出し、ラベル、注記（src/insight/render/）。
