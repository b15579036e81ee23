# 送信元の診断と対処方法（src/insight/diagnosis.rs）。
# 用語は locales/GLOSSARY.md に従います。
# 省略可能な部分（$how, $spf_note）は別のメッセージから作られ、
# 該当しない場合は空になります。

diagnosis-aligned = DKIMとSPFのどちらも成功し、整合しています。対応は不要です。

diagnosis-unauthorised =
    この送信元はDKIMとSPFのどちらも整合した状態で成功しておらず、これまで一度もDMARC認証に成功していません。正規の送信元ではなく、第三者が{ $domain }になりすましてメールを送っています。_dmarc.{ $domain }のTXTレコードでDMARCポリシーをp=quarantine（隔離）またはp=reject（拒否）にすると、このなりすましを止められます。

diagnosis-dkim-not-aligned =
    DKIMは{ $signer }（{ $service }のドメイン）でのみ成功しており、{ $domain }では成功していません。{ $service }で{ $domain }のDKIM署名を有効にしてください{ $how }。{ $spf_note }

diagnosis-spf-note = SPFも{ $envelope }でのみ成功しています。{ $domain }のサブドメインをカスタムMAIL FROMドメインに設定すると、SPFも整合します。

diagnosis-spf-not-aligned =
    SPFは{ $envelope }で成功していますが、これは{ $service }のエンベロープ（MAIL FROM）ドメインで{ $domain }ではないため、整合していません。{ $domain }のサブドメイン（bounce.{ $domain }など）をカスタムMAIL FROMドメインとして設定し、{ $service }が指定するMXレコードとSPFレコードをDNSに追加してください{ $how }。

diagnosis-dkim-failing =
    普段はDKIMが成功している送信元で、{ $messages }通中{ $failing }通が{ $domain }のDKIM検証に失敗しています。鍵の更新（ローテーション）か、配送途中でのメールの改変が考えられます。{ $record }に、送信側が署名に使っている鍵が公開されているか確認してください。

diagnosis-dkim-record-unknown = 該当するセレクターの_domainkey.{ $domain }レコード

diagnosis-forwarded =
    DKIMは成功して整合していますが、SPFは失敗しています。転送やメーリングリストを経由したメールです。DMARCはDKIMで成功するため、通常は問題ありません。

diagnosis-often-fails =
    この送信元はDMARC認証に成功することもある正規の送信元ですが、{ $messages }通中{ $fail }通がDMARC認証に失敗しています。この送信元を{ $domain }のSPFレコードに追加するか、{ $domain }のDKIMで署名するよう設定してください。

diagnosis-dkim-missing =
    DMARCはSPFだけで成功しており、整合したDKIM署名がありません。SPFはメールが転送されると失敗するため、このメールに{ $domain }のDKIM署名を付けてください。

diagnosis-mostly-aligned-all =
    { $messages }通すべてがDMARC認証に成功しています。一部のメールではDKIMかSPFの一方が整合していませんが、転送でよく起きることです。対応は不要です。

diagnosis-mostly-aligned =
    { $messages }通中{ $passed }通がDMARC認証に成功しています。少数の失敗は転送によるものと考えられます。急ぎの対応は不要です。

diagnosis-setup-aside = （{ $how }）

diagnosis-another-domain = 別のドメイン
diagnosis-sending-service = 送信サービス
diagnosis-its-own-domain = 送信サービス自身のドメイン
