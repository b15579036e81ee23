# 送信サービスのDKIM署名（setup-dkim-*）やエンベロープドメイン、つまりSPF
# （setup-mail-from-*）を利用者のドメインに整合させる手順。診断の対処方法の
# 後に全角括弧で示されるため、文末に句点を付けません。
# サービスの画面に表示される名称（Easy DKIMなど）は英語のままにします。

setup-dkim-amazon-ses = SESのEasy DKIMでドメインを検証し、3件のCNAMEレコードをDNSに公開します
setup-mail-from-amazon-ses = SESでカスタムMAIL FROMドメインを設定し、そのMXレコードとSPFレコードを公開します
setup-dkim-google = Google管理コンソールでDKIM鍵を生成してTXTレコードを公開し、認証を開始します
setup-dkim-microsoft-365 = Microsoft Defenderで2件のセレクター用CNAMEレコードを公開し、ドメインのDKIM署名を有効にします
setup-dkim-sendgrid = SendGridのドメイン認証（Domain Authentication）で示されるCNAMEレコードを公開します
setup-mail-from-sendgrid = SendGridのドメイン認証で、カスタムのReturn-Pathも設定されます
setup-dkim-mailchimp = Mailchimpでドメインを認証し、そのCNAMEレコードを公開します
setup-dkim-mailgun = Mailgunで送信ドメインを検証し、DKIMのTXTレコードを公開します
setup-mail-from-mailgun = Mailgunの送信ドメイン設定で、Return-Path用のCNAMEレコードを公開します
setup-dkim-postmark = Postmarkの送信者署名（Sender Signature）で、DKIMのTXTレコードを公開します
setup-mail-from-postmark = PostmarkでReturn-PathのCNAMEレコードを公開します
setup-dkim-sparkpost = SparkPostで送信ドメインを検証し、DKIMレコードを公開します
setup-mail-from-sparkpost = SparkPostでバウンスドメインを追加し、そのCNAMEレコードを公開します
setup-dkim-salesforce = Salesforceの設定でDKIM鍵を作成し、CNAMEレコードを公開します
setup-dkim-zendesk = Zendeskでデジタル署名を有効にし、CNAMEレコードを公開します
setup-dkim-hubspot = HubSpotでメール送信ドメインを接続し、示されるレコードを公開します
setup-dkim-brevo = Brevoでドメインを認証し、DKIMレコードを公開します
setup-dkim-mailjet = Mailjetでドメインを認証し、DKIMレコードを公開します
setup-dkim-zoho = Zoho管理コンソールでDKIMセレクターを追加し、TXTレコードを公開します
