# 各コマンドとオプションの--help（src/i18n/help.rsが設定します）。
#
# help-<コマンド>はコマンドの説明、help-<コマンド>--<オプション>はオプションの説明です。
# help-arg--<オプション>は、コマンド別の説明がない場合に使われます。

help-about = DMARC集約レポート、SMTP TLSレポート、DMARC失敗レポートを受信し、SQLiteに保存します

## すべてのコマンドのオプション

help-arg--config = 設定ファイル（TOML）です。指定しない場合、すべての項目が既定値になります
help-arg--db = SQLiteのデータベースファイルです。`store.path`より優先されます（既定値は./dmarc-sink.sqlite）
help-arg--lang = 表示する言語（en、ja）です。`insight.lang`とロケール（LC_ALL、LC_MESSAGES、LANG）より優先されます。ログ、JSONのキー、CSVの見出し、各種IDは英語のままです
help-arg--help = ヘルプを表示します
help-arg--version = バージョンを表示します

## 複数のコマンドに共通のオプション

help-arg--domains = 表示するポリシードメインです（複数指定可。既定値はすべて）
help-arg--since = この時点以降に期間が始まるレポートを対象にします。日付（2026-11-01）、UTCのタイムスタンプ、または現在からさかのぼる期間（30d、12h、2w）で指定します
help-arg--until = この時点より前に期間が始まるレポートを対象にします。日付（その日全体を含みます）、UTCのタイムスタンプ、または現在からさかのぼる期間で指定します
help-arg--include-unauthenticated = 認証されなかった送信者からのレポートも集計します（既定では除外し、除外した件数を表示します）
help-arg--postgres = このデータベースの代わりに、フリートのPostgreSQL（各dmarc-sinkが送ったレポートを重複なく1回ずつ）を読みます。postgres://user[:password]@host/db
help-arg--format = 出力形式です。人が読む表（table）、またはプログラム向けのcsvかjson
help-arg--domain = ポリシードメインです
help-arg--source = IPアドレス（192.0.2.10）、CIDRブロック（192.0.2.0/24）、またはその送信元のメールで成功したDKIMかSPFのドメイン（amazonses.comなど。サブドメインも含みます）
help-arg--name = 表示名です
help-arg--note = エントリーに残すメモです

## 受信と保存

help-serve = SMTPサーバーとして受信を開始します
help-serve--listen = 待ち受けるアドレスです。`smtp.listen`より優先されます
help-import = レポートファイル、.emlメッセージ、ディレクトリ、Maildirフォルダー、mboxファイルを取り込みます
help-import--paths = 取り込むファイル、ディレクトリ、Maildirフォルダー、mboxファイルです
help-import--authenticate = 各メールを認証します。DKIMと、DKIMのみによるDMARCを確認します（ファイルにはSMTPクライアントがないため、SPFは確認できません）。指定しない場合、取り込んだメールは`unchecked`として集計されます
help-reparse = 保存済みのメールをこのバージョンで読み直し、以前のバージョンで読めなかった内容を復元します
help-reparse--all = 隔離されたペイロードを含むメールだけでなく、保存済みのすべてのメールを対象にします
help-prune = 基準日より古いメールとレポートを削除し、領域を解放します。日ごとの集計値は`summary`、`policy`、`html`のために残します
help-prune--older-than = 基準日です。現在からさかのぼる期間（400d、52w）または日付で指定します。既定値は`store.retention_days`です
help-prune--dry-run = 削除する内容を表示するだけで、何も削除しません
help-export = 前回の続きから、このデータベースの行を別のデータベースに1回送り、テーブルごとの行数を表示します
help-export-postgres = フリートのPostgreSQL（docs/fleet.md）に送ります。スキーマ`dmarc_sink`は最初に作成または移行されます。パスワードはURLに含めるか、`export.postgres.password_file`から読みます。`export.postgres.raw`を有効にすると、受信したメールそのものも送ります
help-export-postgres--url = postgres://user@host:port/database
help-export-postgres--instance = フリートの中でのこのdmarc-sinkの名前です。既定値は`export.postgres.instance`です
help-check-config = 設定を確認し、既定値を補った設定全体を表示します
help-man = これらのコマンドのヘルプからマニュアルページdmarc-sink(1)をroff形式で出力します（`dmarc-sink man > dmarc-sink.1`）

## レポートを読む

help-summary = ポリシードメインごとに、メール数、DMARC・整合したDKIM・整合したSPFの成功率、処理結果、報告元、期間、最後に確認したポリシーを表示します
help-sources = 送信元ごとに、名前、成功率、診断と対処方法を表示します。承認済みの送信元の一覧も管理します（`sources approve ...`）
help-sources--limit = ドメインごとに表示する送信元の数です（0はすべて）。既定値は、表では25、それ以外ではすべてです
help-sources-approve = SOURCEがDOMAINの正規の送信元であると登録します。`policy`はそのドメインの送信元として数え、失敗しても`new_failing_source`アラートを出しません
help-sources-deny = 診断の結果にかかわらず、SOURCEはDOMAINの送信元ではないと登録します
help-sources-forget = SOURCEをDOMAINの一覧から削除します
help-sources-forget--source = IPアドレス、CIDRブロック、またはDKIMかSPFのドメインです
help-sources-export = 一覧をTOML形式で表示します
help-sources-import = `export`で書き出した一覧を読み込み、その内容どおりに承認または拒否します。--replaceを指定しない場合、ほかのエントリーは残ります
help-sources-import--file = 読み込むTOMLファイルです
help-sources-import--replace = ファイルにないエントリーをすべて削除します
help-policy = ドメインごとに、次のポリシー段階に進めるかどうかを、根拠と公開すべきDMARCレコードとともに表示します
help-check-dns = 各ドメインのDNSレコード（DMARC、SPF、DKIM鍵、MX、TLS-RPT、MTA-STS）を、レポートに現れた送信状況と照らし合わせて確認し、DMARCbisに基づく助言を表示します。終了ステータスは、0が失敗なし、1がいずれかのチェックが失敗、2が実行できなかった場合です
help-check-dns--format = 出力形式です。人が読むテキスト（text）、またはプログラム向けのjson
help-check-dns--domains = 確認するドメインです（既定値はデータベース内のすべてのポリシードメイン）
help-check-dns--since = 送信状況と照らし合わせるチェックで、この時点以降に期間が始まるレポートを対象にします。日付、UTCのタイムスタンプ、または期間（30d）で指定します
help-check-dns--fetch-mta-sts = 各MTA-STSポリシーファイルをHTTPSで取得し、そのmxパターンを、MXレコードおよびTLS失敗で報告された受信MXホストと照らし合わせます
help-html = 単独で表示できるHTMLページを1つ書き出します。成功率の推移、診断付きの主な送信元、処理結果を含みます
help-html--out = 書き出すファイルです
help-html--check-dns = 各ドメインのDNSチェック（`check-dns`を参照）を、`[dns]`の設定で名前解決して追加します
help-digest = 期間（既定では1週間）のダイジェストを`digest.relay`経由でメール送信します。DMARC成功率とその変化、新しい送信元と失敗している送信元、除外したレポート、レポートが届かなくなった報告元、MXごとのTLS失敗、各ドメインのポリシー移行の判定を含みます。何もなかった週もその旨を送ります
help-digest--since = この時点以降に期間が始まるレポートを対象にします。日付、UTCのタイムスタンプ、または--untilからさかのぼる期間（7d、2w）で指定します
help-digest--until = 期間の終わりで、レポートが途絶えたかどうかを判断する基準の時刻です。日付（その日全体を含みます）、UTCのタイムスタンプ、または現在からさかのぼる期間で指定します。既定値は現在です
help-digest--domains = 対象にするポリシードメインです（複数指定可。既定値はすべて）
help-digest--to = 宛先です。`digest.to`の代わりに使います（複数指定可）
help-digest--stdout = 送信する代わりに、メール全体（RFC 5322）を表示します
help-digest--include-unauthenticated = 認証されなかった送信者からのレポートも集計します（レポートが届かなくなった報告元の判定には使いません）
help-help = このヘルプ、または指定したサブコマンドのヘルプを表示します
