# Policy readiness: reasons and evidence (src/insight/policy.rs).
