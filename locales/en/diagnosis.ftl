# The diagnoses of a sending source and their fixes (src/insight/diagnosis.rs).
# The codes themselves (aligned, spf_not_aligned, ...) are not translated.
# Optional parts ($how, $spf_note) are formatted from their own messages and
# are empty when they do not apply, so they carry their leading space.

diagnosis-aligned = DKIM and SPF both pass and align. Nothing to do.

diagnosis-unauthorised =
    Neither DKIM nor SPF passes aligned and this source has never passed DMARC: it is not yours, someone else sends mail as { $domain }. p=quarantine or p=reject is what stops it.

# $signer: the DKIM domain that passed; $service: the sending service;
# $how: diagnosis-setup-aside or empty; $spf_note: diagnosis-spf-note or empty.
diagnosis-dkim-not-aligned =
    DKIM passes only for { $signer }, { $service }'s domain, not for { $domain }. Enable { $service }'s DKIM signing for { $domain }{ $how }.{ $spf_note }

# Added to diagnosis-dkim-not-aligned when SPF passes unaligned as well.
diagnosis-spf-note = { " " }SPF passes for { $envelope } only: a custom MAIL FROM subdomain of { $domain } aligns it too.

# $envelope: the envelope (MAIL FROM) domain that passed SPF.
diagnosis-spf-not-aligned =
    SPF passes for { $envelope }, { $service }'s envelope (MAIL FROM) domain, not for { $domain }, so it does not align. Set up a custom MAIL FROM subdomain of { $domain } (such as bounce.{ $domain }) with the MX and SPF records { $service } asks for{ $how }.

# $failing of $messages messages; $record: the DKIM key record to check.
diagnosis-dkim-failing =
    DKIM fails for { $domain } on { $failing } of { $messages } messages from a source that usually passes: a key rotation or a changed message. Check that { $record } holds the key the sender signs with.

# $record of diagnosis-dkim-failing when the failing selector is not known.
diagnosis-dkim-record-unknown = the selector's _domainkey.{ $domain } record

diagnosis-forwarded =
    DKIM passes and aligns but SPF fails: forwarding or a mailing list relays this mail. Usually benign: DMARC passes on DKIM.

diagnosis-often-fails =
    This source is yours (it passes sometimes) but { $fail } of its { $messages } messages fail DMARC. Add it to the SPF record of { $domain } or have it sign with DKIM for { $domain }.

diagnosis-dkim-missing =
    DMARC passes on SPF alone, without an aligned DKIM signature. Sign this mail with DKIM for { $domain }: SPF breaks when mail is forwarded.

diagnosis-mostly-aligned-all =
    DMARC passes for all { $messages } messages; aligned DKIM or SPF alone fails for a few, as forwarding does. Nothing to do.

diagnosis-mostly-aligned =
    DMARC passes for { $passed } of { $messages } messages; the few failures are most likely forwarding. Nothing urgent.

# $how of the diagnoses: the sending service's own setup step (setup-*).
diagnosis-setup-aside = { " " }({ $how })

# Stand-ins when the reports do not name the domain or the service.
diagnosis-another-domain = another domain
diagnosis-sending-service = the sending service
diagnosis-its-own-domain = its own domain
