# check-dns：各チェックの結果と対処方法（src/check/）。
# 用語は locales/GLOSSARY.md（「Terms of check-dns」を含む）に従います。
# チェックID（dmarc.record など）と状態（ok, warn, fail, error）は翻訳しません。
# DNS名、レコード、タグ、SPFの項目は変数で渡され、そのまま表示します。
# レコードの値は「」で囲みます。誤りのある値（$record, $value）は引用符付きで渡されます。
# 注記や対処を並べる場合、区切り文字は入れず、各文を「。」で終えます。
# そのため、注記として並ぶメッセージ（状態 $state を除く）は必ず「。」で終えてください。

## テキスト表示と共通のメッセージ

check-fix-line = 対処：{ $fix }
check-list-separator = { "、" }
check-notes-separator = { "" }
check-dns-error = { $name }のDNS問い合わせに応答がありません（{ $reason }）。
check-dns-error-fix = 設定の[dns] nameserversを確認し、もう一度実行してください。
check-keep-one = レコードを1つだけ残してください。
check-record-at = { $name }に「{ $record }」が公開されています。
check-no-store = ストアがないため、送信状況は確認していません。
check-source-messages = { $ip }（{ $messages }通）
check-more = ほか{ $count }件

## dmarc.record, dmarc.policy, dmarc.rua

check-dmarc-no-record = _dmarc.{ $domain }にも親ドメインにもDMARCレコードがありません。
check-dmarc-no-record-fix = _dmarc.{ $domain }にTXTレコード「v=DMARC1; p=none; rua=mailto:dmarc@<dmarc-sinkのドメイン>」を公開してください。
check-dmarc-no-record-policy = DMARCレコードがないため、ポリシーがありません。
check-dmarc-no-record-rua = DMARCレコードがないため、ruaもなく、集約レポートは届きません。
check-dmarc-several = _dmarc.{ $name }にv=DMARC1のレコードが複数あるため、どれも適用されません。
check-dmarc-several-policy = 適用されるポリシーがありません。
check-dmarc-several-rua = 適用されるruaがありません。
check-dmarc-at-parent = _dmarc.{ $parent }（_dmarc.{ $domain }にレコードがないため、ツリーウォークで見つけた親ドメイン）
check-dmarc-not-tag-list = { $location }のDMARCレコードが「タグ=値」の形式になっていません（{ $value }）。
check-dmarc-not-tag-list-fix = 「;」で区切った「タグ=値」の組で書き、v=DMARC1を先頭にしてください。
check-dmarc-v-not-first = { $location }のDMARCレコードで、v=DMARC1が先頭のタグになっていません。
check-dmarc-v-not-first-fix = v=DMARC1を先頭に置いてください。
check-dmarc-bad-p = { $location }のDMARCレコードのp={ $value }は、有効なポリシーではありません。
check-dmarc-bad-p-fix = p=none、p=quarantine、p=rejectのいずれかにしてください。
check-dmarc-record = { $location }のDMARCレコードは「{ $record }」です。
check-dmarc-record-notes = { $location }のDMARCレコードは「{ $record }」です。{ $notes }
check-dmarc-no-p = p=タグがないため、p=none（監視のみ）として扱われます。
check-dmarc-historic = { $tags }はDMARCbis（RFC 9989）で廃止されたタグで、DMARCbisに従う受信側には無視されます。
check-dmarc-unknown-tags = 未知のタグがあります：{ $tags }。
check-dmarc-record-fix-no-p = p=none（または意図するポリシー）を明記し、廃止されたタグと未知のタグを削除してください。
check-dmarc-record-fix-tags = 廃止されたタグと未知のタグを削除してください。
check-dmarc-test-mode = { $tag }={ $policy }ですが、t=y（テストモード）のため、受信側は1段階弱い扱いをします。ポリシーは本来の強さで適用されていません。
check-dmarc-test-mode-fix = `dmarc-sink policy`で移行の準備ができたと判断されたら、t=yを削除してください。
check-dmarc-none = { $tag }=none（監視のみ）のため、何も適用されていません。
check-dmarc-none-fix = p=quarantine（隔離）に移行してよい時期と、公開するレコードは`dmarc-sink policy`で確認してください。
check-dmarc-np-none = { $tag }={ $policy }ですが、存在しないサブドメインにはnoneが適用されます。
check-dmarc-np-none-fix = np=rejectを追加してください。存在しないドメイン名からメールが送られることはありません。
check-dmarc-enforced = { $tag }={ $policy }、np={ $np }が適用されています。
check-dmarc-rua-missing = rua=がないため、集約レポートはどこにも送られません。
check-dmarc-rua-missing-fix = _dmarc.{ $domain }にrua=mailto:dmarc@<dmarc-sinkのドメイン>を追加してください。
check-dmarc-rua-not-mailto = { $uri }はmailto:形式のアドレスではありません。
check-dmarc-rua-not-mailto-fix = rua=mailto:dmarc@<dmarc-sinkのドメイン>の形式で指定してください。
check-dmarc-rua-no-consent = rua={ $rua }の送信先{ $host }が{ $domain }のレポートの受信に同意していないため、レポートは届きません。
check-dmarc-rua-no-consent-fix = { $host }側で、{ $name }にTXTレコード「v=DMARC1」を公開してください。
check-dmarc-rua = rua={ $rua }が設定されています。
check-dmarc-rua-authorised = rua={ $rua }が設定されています（{ $hosts }は_report._dmarcで受信に同意しています）。

## spf.record, spf.lookups

check-spf-no-record = { $domain }にv=spf1のレコードがありません。
check-spf-no-record-fix = { $domain }にTXTレコード「v=spf1 <送信元> -all」を公開してください。メールを送らないドメインなら「v=spf1 -all」にしてください。
check-spf-no-record-lookups = レコードがないため、DNSルックアップはありません。
check-spf-several = { $domain }にv=spf1のレコードが複数あるため、SPFは恒久的エラー（permerror）になります。
check-spf-several-fix = 1つのレコードにまとめてください。
check-spf-several-lookups = レコードが1つに定まらないため、数えていません。
check-spf-broken = { $domain }のレコード{ $record }は、SPF（RFC 7208）として解析できません。
check-spf-broken-fix = 構文を修正してください。
check-spf-broken-lookups = レコードを解析できないため、数えていません。
check-spf-record = { $domain }のSPFレコードは「{ $record }」です。
check-spf-lookups = DNSルックアップは{ $lookups }回（上限{ $max }回）、voidルックアップは{ $void }回です。
check-spf-lookups-notes = DNSルックアップは{ $lookups }回（上限{ $max }回）、voidルックアップは{ $void }回です。{ $notes }
check-spf-lookups-no-answer = ルックアップを数える途中で、{ $name }のDNS問い合わせに応答がありませんでした（{ $reason }）。
check-spf-lookups-permanent-error = 上限を超えるため、受信側は評価を打ち切り、恒久的エラー（permerror）とします。
check-spf-lookups-too-many-void = voidルックアップが{ $void }回あり、上限の{ $max }回を超えています。
check-spf-lookups-fix-many = レポートのどの送信元も使っていないincludeを外す（spf.trafficを参照）か、include:の代わりにip4:/ip6:で送信元のアドレス範囲を指定してください。
check-spf-lookups-fix-terms = 挙げた項目を修正するか、削除してください。
check-spf-too-many-queries = 評価に{ $max }回を超えるDNSクエリが必要なため、そこで打ち切りました。
check-spf-loop = { $term }が自分自身に戻るループになっています。
check-spf-too-deep = { $term }の入れ子が{ $max }段を超えています。
check-spf-target-no-record = { $term }の先にSPFレコードがありません。
check-spf-target-several = { $term }の先にSPFレコードが複数あります。
check-spf-target-broken = { $term }の先のSPFレコード{ $record }は解析できません。
check-spf-ptr = { $term }のレコードはptrを使っていますが、RFC 7208はptrを使わないよう求めています。

## spf.traffic, spf.mail_from

check-spf-traffic-no-record = レポートと照合するSPFレコードがありません。
check-spf-traffic-no-record-missing = SPFレコードがありません。DKIMは成功していますが、SPFが成功していない送信元があります：{ $sources }。
check-spf-traffic-no-reports = この期間に、レコードと照合するレポートがありません。
check-spf-traffic-reported = 送信元{ $sources }件から{ $messages }通が報告されています。
check-spf-traffic-missing = DKIMは成功していますが、SPFが成功していない送信元があります：{ $sources }。
check-spf-traffic-missing-fix = このうち正規の送信元を、SPFレコードに追加してください（送信サービスが指定するinclude:またはアドレス範囲）。
check-spf-traffic-unused = { $terms }に一致する送信元はレポートにありません。
check-spf-traffic-unused-fix = { $terms }を経由して送るメールがなければ、削除を検討してください。
check-spf-mail-from-none = レポートには、ほかのエンベロープドメインでSPFが成功したメールはありません。
check-spf-mail-from-envelope = { $envelope }（送信元{ $sources }件から{ $messages }通）
check-spf-mail-from = SPFはほかのドメインのエンベロープでのみ成功しています：{ $envelopes }。これでは{ $domain }と整合しません。
check-spf-mail-from-fix = これらの送信サービスで、{ $domain }のサブドメインをカスタムMAIL FROMドメインに設定してください（Amazon SESでは、bounce.{ $domain }などを「カスタムMAIL FROMドメイン」として設定し、そのMXレコードとSPFレコードを公開します）。

## dkim.selectors

check-dkim-no-store = ストアがないため、セレクターは確認していません。
check-dkim-no-signature = この期間のレポートに、{ $domain }のDKIM署名がありません。
check-dkim-no-signature-fix = 自分のドメインのDKIMでメールに署名してください（Amazon SESではEasy DKIM）。
check-dkim-selector = セレクター{ $selector }（{ $domain }）：{ $state }。成功{ $passed }通、失敗{ $failed }通（{ $first }〜{ $last }）。
check-dkim-no-answer = セレクター{ $selector }（{ $domain }）：DNS問い合わせに応答がありません（{ $reason }）。
check-dkim-more-selectors = ほか{ $count }個のセレクターは調べていません。
check-dkim-invalid-selectors = レポートにあるセレクター名のうち{ $count }個は、DNSの名前として正しくないため調べていません。
# 以下の状態（$state）は文の途中に入るため、「。」で終えません。
check-dkim-no-key = 鍵が公開されていません
check-dkim-no-p = TXTレコードはありますが、鍵（p=）がありません
check-dkim-not-key-record = 鍵のレコードではありません（{ $error }）
check-dkim-not-base64 = p=がBase64ではありません
check-dkim-not-rsa = p=がRSA公開鍵ではありません
check-dkim-revoked-in-use = 失効済み（p=が空）ですが、まだレポートに現れています
check-dkim-revoked = 失効済み（p=が空）
check-dkim-rsa-too-short = { $bits }ビットのRSA鍵で、短すぎて信頼できません
check-dkim-rsa = { $bits }ビットのRSA鍵
check-dkim-other-key = { $kind }の鍵
check-dkim-publish-fix = { $name }に鍵を公開するか、このセレクターでの署名をやめてください。
check-dkim-revoked-fix = { $name }は失効しています。まだ使っている送信元を、現在の鍵に移してください。
check-dkim-too-short-fix = { $name }を2048ビットの鍵に置き換えてください。
check-dkim-rotate-fix = { $name }を2048ビットの鍵に更新（ローテーション）してください。
check-tag-no-value = { $part }が「タグ=値」の形式になっていません
check-tag-repeated = タグ{ $tag }が2回指定されています

## mx, tlsrpt.record

check-mx-none = { $domain }にMXレコードがありません。このドメイン宛てのメールは、アドレス（Aレコード）があればそこへ配送されます。
check-mx-none-fix = MXレコードを公開してください。{ $domain }でメールを受け取らない場合は、null MX（「MX 0 .」、RFC 7505）を公開してください。
check-mx-null = null MXです。このドメインはメールを受け取りません。
check-tlsrpt-none = { $name }にv=TLSRPTv1のレコードがないため、SMTP TLSレポートは届きません。
check-tlsrpt-none-fix = { $name }にTXTレコード「v=TLSRPTv1; rua=mailto:tlsrpt@<dmarc-sinkのドメイン>」を公開してください。
check-tlsrpt-no-rua = { $name }のレコード{ $record }にruaがありません。
check-tlsrpt-no-rua-fix = rua=mailto:tlsrpt@<dmarc-sinkのドメイン>を追加してください。
check-tlsrpt-several = { $name }にv=TLSRPTv1のレコードが複数あります。

## mta_sts.record

check-mta-sts-none = { $name }にv=STSv1のレコードがないため、送信側がTLSなしで配送するおそれがあります。
check-mta-sts-none-fix = https://mta-sts.{ $domain }/.well-known/mta-sts.txtでポリシーを提供し、{ $name }にTXTレコード「v=STSv1; id=<変更ごとに新しいID>」を公開してください。
check-mta-sts-bad-id = { $name }のレコード{ $record }に、有効なid（英数字1〜32文字）がありません。
check-mta-sts-bad-id-fix = id=<英数字>を指定し、ポリシーを変更するたびに変えてください。
check-mta-sts-several = { $name }にv=STSv1のレコードが複数あります。
check-mta-sts-fetch-failed = { $record }ポリシーファイルを取得できませんでした（{ $reason }）。
check-mta-sts-fetch-failed-fix = 有効な証明書を使い、https://mta-sts.{ $domain }/.well-known/mta-sts.txtでポリシーを提供してください。
check-mta-sts-policy = { $record }ポリシーのモードは{ $mode }、mxは{ $mx }です。
check-mta-sts-unlisted = { $record }ポリシーのモードは{ $mode }、mxは{ $mx }です。ポリシーにないMXホストがあります：{ $hosts }。
check-mta-sts-unlisted-fix = すべてのMXホストをポリシーのmx行に記載してください（レコードのidも変更してください）。
check-mta-sts-failing-unlisted = { $record }ポリシーのモードは{ $mode }、mxは{ $mx }です。レポートのTLS失敗に、ポリシーにない受信MXホストが現れています：{ $hosts }。
check-mta-sts-failing-unlisted-fix = それらのホストをポリシーに記載するか、MXとして公開するのをやめてください。
check-mta-sts-not-a-domain = { $domain }はドメイン名ではありません
check-mta-sts-policy-no-version = 「version: STSv1」の行がありません
check-mta-sts-policy-no-mode = mode行がありません
check-mta-sts-policy-bad-mode = mode { $mode }はenforce、testing、noneのいずれでもありません
check-mta-sts-policy-no-mx = mx行がありません
