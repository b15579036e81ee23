# summary、sources、policyの表の見出し、ラベル、注記（src/insight/render/）。
# 用語は locales/GLOSSARY.md に従います。
# 列見出しは最も幅の広いセルに合わせて揃えるため、どの幅でも構いません。
# 日付（$day, $from, $to）と割合（$share）は言語に合わせて整形済みです。

tables-nothing = 指定された期間のレポートはありません。

## 列見出し。

tables-column-domain = ドメイン
tables-column-messages = 通数
tables-column-dmarc = DMARC
tables-column-dkim = DKIM
tables-column-spf = SPF
tables-column-quarantine = 隔離
tables-column-reject = 拒否
tables-column-orgs = 報告元
tables-column-policy = ポリシー
tables-column-tls-ok = TLS成功
tables-column-tls-failed = TLS失敗
tables-column-failed-share = 失敗率
tables-column-failure-reports = 失敗レポート
tables-column-incidents = 失敗通数
tables-column-source = 送信元
tables-column-name = 名前
tables-column-receiving-mx = 受信MX
tables-column-failed = 失敗
tables-column-sending-ips = 送信IP数
tables-column-last-seen = 最終確認日
tables-column-reports = レポート
tables-column-latest = 最終受信日
tables-column-auth-failure = 認証失敗
tables-column-failing = 失敗通数
tables-column-diagnosis = 診断

## summary

tables-summary-domain-period = { $domain }：集約レポート{ $reports }件（{ $from }〜{ $to }）。公開中のレコード：{ $policy }
tables-summary-domain = { $domain }：集約レポート{ $reports }件。公開中のレコード：{ $policy }
tables-no-policy-seen = 不明（レポートにポリシーの記載なし）

tables-tls-failure-title = SMTP TLSレポートとDMARC失敗レポート

tables-domain-line = { $domain }：{ $parts }
tables-parts-separator = 。
tables-summary-tls = TLSレポート{ $reports }件（報告元{ $reporters }件、{ $from }〜{ $to }）
tables-summary-failures = 失敗レポート{ $reports }件（{ $kinds }）、最終受信日{ $day }
tables-auth-failure-kind = { $kind } { $reports }件
tables-auth-failure-not-given = 記載なし
tables-list-separator = 、

## sources

tables-no-aggregate-reports = 集約レポートはありません
tables-diagnosis = { $code }：{ $message }
tables-approved-by-you = 承認済みの送信元です
tables-approved-by-you-as = 「{ $name }」として承認済みの送信元です
tables-denied-by-you = 否認済みの送信元です
tables-denied-by-you-as = 「{ $name }」として否認済みの送信元です
tables-reported-by = 報告元{ $reporters }件（うちレポートメールが認証された報告元{ $authenticated }件）
tables-more-sources = … ほかに送信元が{ $n }件あります（--limit 0ですべて表示）
tables-more-receiving-mx = … ほかに受信MXが{ $n }件あります（--limit 0ですべて表示）
tables-more-source-ips = … ほかに送信元IPが{ $n }件あります（--limit 0ですべて表示）
tables-tls-failures-title = 受信MXごとのTLS失敗
tables-no-mx-named = （MX名なし）
tables-result-type = { $type } { $sessions }件
tables-failure-sources-title = 送信元IPごとの失敗レポート

## policy

tables-policy-at-reject = { $domain }：p=reject（拒否）に到達済みです（最終段階）
tables-policy-ready = { $domain }：p={ $step }に進む準備ができています
tables-policy-not-ready = { $domain }：p={ $step }に進む準備はまだできていません
tables-published-now = 現在公開中のレコード：
tables-publish-next = 次に_dmarc.{ $domain }に公開するレコード：
tables-next-step = 準備ができたら公開する次のレコード：
tables-as-a-test = まずテストする場合のレコード（t=y：受信側は1段階弱いポリシーを適用します）：
tables-evidence = 根拠：{ $days }日間のメール{ $messages }通のうち{ $failing }通がDMARC認証に失敗しています。そのうち正規の送信元からのものが{ $legitimate }通（全体の{ $share }）、正規でない送信元からのものが{ $unauthorised }通です。
tables-affected-title = 次の段階に進むと、現時点で影響を受ける正規の送信元：

## 各表の下の注記。

# 1行が80桁に収まるよう、2行に分けています。
tables-left-out-title =
    レポートメールの送信者が認証されなかったため、次のレポートを集計から除外
    しました（--include-unauthenticatedを付けると集計に含めます）：
tables-left-out = { $domain }：レポート{ $reports }件（レポートメール{ $messages }通）
