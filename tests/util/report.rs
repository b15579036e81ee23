//! Aggregate reports with every field the insight commands read, written
//! in the tests: each row says what its source did, so each diagnosis can
//! be built on purpose.

/// One `<record>`.
#[derive(Clone)]
pub struct Row {
    pub ip: &'static str,
    pub count: u32,
    pub disposition: &'static str,
    /// `policy_evaluated/dkim` (aligned verdict).
    pub dkim: &'static str,
    /// `policy_evaluated/spf` (aligned verdict).
    pub spf: &'static str,
    pub envelope_from: Option<&'static str>,
    /// `auth_results/dkim`: (domain, selector, result).
    pub dkim_auth: Vec<(&'static str, &'static str, &'static str)>,
    /// `auth_results/spf`: (domain, result).
    pub spf_auth: Vec<(&'static str, &'static str)>,
}

impl Row {
    /// Mail that passes DKIM and SPF for `domain`, aligned.
    pub fn aligned(ip: &'static str, count: u32, domain: &'static str) -> Row {
        Row {
            ip,
            count,
            disposition: "none",
            dkim: "pass",
            spf: "pass",
            envelope_from: Some(domain),
            dkim_auth: vec![(domain, "s1", "pass")],
            spf_auth: vec![(domain, "pass")],
        }
    }

    /// Mail where nothing passes and nothing is signed.
    pub fn failing(ip: &'static str, count: u32, envelope: &'static str) -> Row {
        Row {
            ip,
            count,
            disposition: "none",
            dkim: "fail",
            spf: "fail",
            envelope_from: Some(envelope),
            dkim_auth: vec![],
            spf_auth: vec![(envelope, "fail")],
        }
    }
}

/// One report of one organisation on one policy domain.
pub struct Report {
    pub org: &'static str,
    pub id: String,
    pub domain: &'static str,
    /// Unix seconds; the range is one day.
    pub begin: i64,
    pub p: &'static str,
    pub pct: u32,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn xml(&self) -> String {
        let Report {
            org,
            id,
            domain,
            begin,
            p,
            pct,
            ..
        } = self;
        let end = begin + 86_399;
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n<report_metadata>\
             <org_name>{org}</org_name><email>dmarc@{org}</email><report_id>{id}</report_id>\
             <date_range><begin>{begin}</begin><end>{end}</end></date_range></report_metadata>\n\
             <policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf>\
             <p>{p}</p><pct>{pct}</pct></policy_published>\n"
        );
        for row in &self.rows {
            xml.push_str(&format!(
                "<record><row><source_ip>{}</source_ip><count>{}</count><policy_evaluated>\
                 <disposition>{}</disposition><dkim>{}</dkim><spf>{}</spf></policy_evaluated>\
                 </row><identifiers><header_from>{domain}</header_from>",
                row.ip, row.count, row.disposition, row.dkim, row.spf
            ));
            if let Some(envelope) = row.envelope_from {
                xml.push_str(&format!("<envelope_from>{envelope}</envelope_from>"));
            }
            xml.push_str("</identifiers><auth_results>");
            for (d, selector, result) in &row.dkim_auth {
                xml.push_str(&format!(
                    "<dkim><domain>{d}</domain><selector>{selector}</selector>\
                     <result>{result}</result></dkim>"
                ));
            }
            for (d, result) in &row.spf_auth {
                xml.push_str(&format!(
                    "<spf><domain>{d}</domain><scope>mfrom</scope><result>{result}</result></spf>"
                ));
            }
            xml.push_str("</auth_results></record>\n");
        }
        xml.push_str("</feedback>\n");
        xml
    }
}
