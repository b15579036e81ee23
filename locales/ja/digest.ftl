# 週次ダイジェストメール（src/insight/digest/）：件名、テキスト部分、HTML部分。
# 用語は locales/GLOSSARY.md に従います。HTML部分にはそのまま入るため、
# マークアップを含めないでください。$since、$untilは日付、$first、$lastは
# コマンド用のRFC 3339形式の日時です。

## 件名（digest.subject_prefixの後）

digest-subject = { $since }～{ $until }のDMARCダイジェスト：{ $figures }
digest-subject-quiet = レポートは届いていません
digest-subject-figures = メール{ $messages }通、DMARC認証成功率{ $share }
digest-subject-silent = { $figures }、途絶{ $silent }件

## 両方の部分の先頭と末尾

digest-title = DMARCダイジェスト（{ $since }～{ $until }、UTC）
digest-domains = 対象ドメイン：{ $domains }
digest-footer = このメールはdmarc-sink { $version }が、レポートの有無にかかわらず毎週送信しています。この期間のグラフ：{ $command }

digest-domain-line = { $domain }：{ $text }

## レポートが届かなかった週

digest-quiet-heading = レポートは届いていません
digest-quiet-text = { $since }から{ $until }（UTC）までに、DMARC集約レポート、SMTP TLSレポート、失敗レポート（フォレンジックレポートとも呼ばれます）はどれも届いていません。このメールはそれでも毎週届きます。届いていることが、dmarc-sinkとそのストア、タイマーが動いている証拠です。

## ドメインごとのDMARC認証成功率

digest-pass-heading = ドメインごとのDMARC認証成功率（前の期間との比較）
digest-no-aggregate = この期間のDMARC集約レポートはありません。
digest-column-domain-text = ドメイン
digest-column-messages-text = メール数
digest-column-dmarc-text = DMARC
digest-column-before-text = 前の期間
digest-column-change-text = 変化
digest-column-domain = ドメイン
digest-column-messages = メール数
digest-column-dmarc-pass = DMARC成功率
digest-column-before = 前の期間
digest-column-change = 変化
digest-change-new = 新規
digest-change-none = 変化なし
digest-change-points = { $points }ポイント

## 新しい送信元と失敗している送信元

digest-new-heading = 新しい送信元（この期間に初めて確認）
digest-failing-heading = DMARC認証に失敗している未承認の送信元
digest-none = ありません。
digest-column-source-text = 送信元
digest-column-name-text = 名前
digest-column-failing-text = 失敗
digest-column-diagnosis-text = 診断
digest-column-source = 送信元
digest-column-name = 名前
digest-column-failing = 失敗
digest-column-diagnosis = 診断
digest-more-sources = ほかに{ $n }件あります。すべて表示するには次を実行してください：{ $command }
digest-more-sources-of = { $domain }にはほかに{ $n }件あります。すべて表示するには次を実行してください：{ $command }

## 集計から除外したレポート

digest-left-out-heading = 認証されなかったため除外したレポート
digest-left-out-none = ありません。すべてのレポートは認証されたレポートメールで届いています。
digest-left-out-text = レポートメールが認証されなかった送信者からのレポートです。上の集計には含めていません（{ $flag }を付けると含めます）。
digest-left-out-counts = メール{ $messages }通に含まれるレポート{ $reports }件

## 途絶えた報告元

digest-silent-heading = 途絶えた報告元とドメイン
digest-silent-none = ありません。定期的な報告元はすべて報告を続けています。
digest-silent-reporter = { $domain }：{ $org }は過去30日のうち{ $days }日報告していましたが、{ $last }までのレポートを最後に何も送ってきていません
digest-silent-domain = { $domain }：{ $last }までのレポートを最後に、レポートが1件も届いていません

## SMTP TLS

digest-tls-heading = 受信MXごとのTLSの失敗
digest-no-tls = この期間のSMTP TLSレポートはありません。
digest-tls-failed = { $sessions }件のTLSセッションのうち{ $failed }件が失敗（{ $share }）
digest-no-mx-named = （MXの記載なし）
digest-column-receiving-mx-text = 受信MX
digest-column-failed-text = 失敗
digest-column-result-types-text = 結果の種類
digest-column-receiving-mx = 受信MX
digest-column-failed-sessions = 失敗したセッション
digest-column-result-types = 結果の種類

## ポリシー移行の準備

digest-readiness-heading-text = ポリシー移行の準備（{ $until }までの{ $days }日間のレポート）
digest-readiness-heading = ポリシー移行の準備
digest-readiness-days = { $until }までの{ $days }日間のレポートによる判定です。
digest-readiness-none = この期間のDMARC集約レポートはありません。
digest-readiness-at-end = p=reject（拒否）に到達済みで、これ以上の段階はありません
digest-readiness-ready = p={ $p }に移行できます
digest-readiness-not-ready = p={ $p }にはまだ移行できません
digest-readiness-publish = 公開するレコード：{ $record }
digest-readiness-next = 準備ができたら公開するレコード：{ $record }
