# ポリシー移行の判定：理由と根拠（src/insight/policy.rs）。
