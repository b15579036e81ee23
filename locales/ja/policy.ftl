# ポリシーの強化の判断：理由と根拠（src/insight/policy.rs）。
# 理由はpolicyの表、JSON、HTMLページ、ダイジェストに表示されます。
# $shareと$allowedは整形済みの割合です。

policy-too-few-messages = 報告されたメールは{ $messages }通だけです。判断には{ $min }通以上が必要です（insight.ready_min_messages）。
policy-too-few-days = レポートがあるのは{ $days }日分だけです。判断には{ $min }日分以上が必要です（insight.ready_min_days）。
policy-own-sources-fail = 全メールのうち、正規の送信元から送られてDMARC認証に失敗したものが{ $share }あります（送信元{ $sources }件から{ $failing }通）。許容されるのは{ $allowed }までです（insight.ready_max_failure_share）。先に、一覧の送信元を修正してください。
policy-within-allowed = { $days }日間・{ $messages }通のうち、正規の送信元から送られてDMARC認証に失敗したものは{ $share }で、許容される{ $allowed }以内です。
policy-at-reject = すべてのメールにp=reject（拒否）が適用されています。これ以上公開するレコードはありません。
policy-pct-historic = 公開中のpctタグは廃止されています。DMARCbis（RFC 9989）に対応した受信側は、ポリシーをすべてのメールに適用します。テストには現在t=yを使います。
