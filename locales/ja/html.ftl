# htmlコマンドのHTMLページ（src/insight/html/）。
# 用語は locales/GLOSSARY.md に従います。メッセージの文はそのままページに
# 入るため、マークアップを含めないでください。変数（$serve、$record、
# $timeなど）は安全なマークアップとして渡されます。

## ページの見出しと末尾

html-title = DMARCレポート · { $period }
html-period = { $first }～{ $last }
html-period-none = まだありません
html-heading = DMARCとSMTP TLSのレポート
html-generated = { $time }に作成
html-asked = 対象：{ $what }
html-asked-separator = 、
html-asked-domains = ドメイン{ $names }
html-asked-since = { $time }以降のレポート
html-asked-until = { $time }より前のレポート
html-footer = dmarc-sink { $version }で作成しました。このページは単独で完結しており、外部から何も読み込まず、スクリプトも実行しません。

## 空のページ

html-empty-heading = まだレポートがありません
html-empty-text = 指定された期間とドメインのレポートは保存されていません。{ $serve }がドメインの{ $rua }アドレス宛てのメールを受信するか、{ $import }で取り込むと、レポートが届きます。大手の報告元は1日に1通送ってきます。

## ページで数えないもの

html-left-out-heading = 集計から除外したレポート
html-left-out-text = 認証されなかったレポートメール（差出人ドメインのDMARC認証に失敗したもの）は、このページでは数えていません。{ $flag }を付けると数えます。
html-left-out-counts = メール{ $messages }通に含まれるレポート{ $reports }件

## ドメインの一覧

html-overview-heading = ドメイン
html-column-domain = ドメイン
html-column-messages = メール数
html-column-dmarc-pass = DMARC成功率
html-column-policy = ポリシー
html-column-next-step = 次の段階
html-column-tls-failed = 失敗したTLSセッション
html-column-failure-reports = 失敗レポート
html-next-at-end = 最終段階（p=reject）
html-next-ready = p={ $p }に移行できます
html-next-not-ready = p={ $p }にはまだ移行できません
html-part-of = { $part } / { $whole }
html-no-policy = ポリシー不明

## ドメインごとの節

html-no-aggregate = この期間、このドメインのDMARC集約レポートはありません。SMTP TLSレポートまたは失敗レポートがあるため表示しています。
html-aggregate-reports = 報告元{ $reporters }件からのレポート{ $reports }件 · { $first }～{ $last }
html-published = 公開中のレコード：{ $record }
html-figure-messages = メール（通）
html-figure-dmarc = DMARC認証に成功
html-figure-dkim = 整合したDKIM
html-figure-spf = 整合したSPF
html-figure-detail = { $label } · { $messages }通中{ $passed }通
html-verdict-at-end = すべてのメールがp=reject（拒否）の対象です。これ以上公開するレコードはありません。
html-verdict-ready = { $step }に移行できます。
html-verdict-not-ready = { $step }にはまだ移行できません。
html-verdict-publish = 公開するレコード：{ $record }
html-verdict-next = 次の段階のレコード：{ $record }
html-chart-heading = 日ごとの成功率とメール数
html-dispositions-heading = 受信側の処理
html-dispositions-text = 受信側がメールをどう扱ったかを、レポートの報告どおりに示します。
html-disposition-none = 配信（none）
html-disposition-quarantine = 隔離
html-disposition-reject = 拒否
html-sources-heading = 主な送信元

## グラフ

html-chart-title = { $domain }の日ごとの成功率とメール数
html-chart-delivered = 配信
html-chart-quarantined = 隔離
html-chart-rejected = 拒否
html-chart-messages-per-day = 1日のメール数
html-chart-tip-day = { $day }：{ $messages }通
html-chart-tip-dispositions = 隔離{ $quarantined }通、拒否{ $rejected }通

## 主な送信元

html-column-source = 送信元
html-column-diagnosis = 診断
html-unnamed = 名前なし
html-more-sources = ほかに{ $n }件の送信元があります。すべて表示するには{ $command }を実行してください。

## SMTP TLSのカード

html-tls-heading = 受信MXごとのTLSの失敗
html-tls-reports = 報告元{ $reporters }件からのSMTP TLSレポート{ $reports }件
html-tls-failed = { $sessions }セッション中{ $failed }セッションが失敗（{ $share }）
html-tls-successful = 成功{ $successful }セッション
html-tls-all-succeeded = 失敗の詳細はありません。報告されたTLSセッションはすべて成功しています。
html-column-receiving-mx = 受信MX
html-column-failed-sessions = 失敗したセッション
html-column-result-types = 結果の種類
html-column-sending-mtas = 送信MTA
html-column-reporters = 報告元
html-column-last-seen = 最終確認日
html-no-mx-named = MXの記載なし
html-more-mx = ほかに{ $n }件の受信MXホストがあります。すべて表示するには{ $command }を実行してください。

## 失敗レポートのカード

html-failures-heading = 失敗レポート
html-failures-aka = 失敗レポートは、日本語の解説ではフォレンジックレポートとも呼ばれます。
html-failures-summary = 報告元{ $reporters }件から、失敗したメール{ $incidents }通についての失敗レポート{ $reports }件 · 最新の受信日{ $latest } · 種類別：{ $kinds }
html-not-given = 記載なし
html-column-source-ip = 送信元IP
html-column-reports = レポート
html-column-incidents = 失敗したメール数
html-column-auth-failures = 認証の失敗
html-column-first-arrival = 最初の受信日
html-column-latest-arrival = 最新の受信日
html-more-source-ips = ほかに{ $n }件の送信元IPがあります。すべて表示するには{ $command }を実行してください。

## DNSチェックのカード（html --check-dns）

html-dns-heading = DNSチェック
html-dns-column-status = 状態
html-dns-column-check = チェック
html-dns-column-found = 検出内容
html-dns-column-fix = 対処方法
