// compose.check as a decision table: who is added to Cc and which notices the sender gets, for
// every case the issue names (owner as sender, owner in Bcc under a second address, two
// accounts with one owner, public-domain contact by exact address only, internal-only, per-
// account and per-role off, team, display-name forms, case, IDN). One row per case; the
// submission listener and the Sent audit use this same function.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "rapport/compose_check.hpp"

using namespace rapport;

namespace {

std::string rules_json(const std::string& auto_cc) {
    return R"json({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [
        {"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example", "robert@vendor.example"], "role": "rep"},
        {"id": "rita", "name": "Rita Rep", "addresses": ["rita@vendor.example", "rita.rep@eu.vendor.example"], "role": "rep"},
        {"id": "tom", "name": "Tom Team", "addresses": ["tom@vendor.example"], "role": "rep"},
        {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"},
        {"id": "sam", "name": "Sam Support", "addresses": ["sam@vendor.example"], "role": "support"},
        {"id": "max", "name": "Max Manager", "addresses": ["max@vendor.example"], "role": "manager"}
      ],
      "accounts": [
        {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob", "team": ["tom"],
         "reference": true, "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]},
        {"id": "globex", "name": "Globex", "domains": ["globex.example"], "owner": "rita", "team": ["tom"],
         "stage": "prospect", "contacts": [{"address": "hank.scorpio@gmail.com"}]},
        {"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob", "stage": "lost",
         "lost": {"competitor": "Hooli", "delivery": "2027-01-31"}},
        {"id": "umbrella", "name": "Umbrella", "domains": ["umbrella.example"], "owner": "rita", "auto_cc": false},
        {"id": "buecher", "name": "Bücher AG", "domains": ["bücher.example"], "owner": "rita",
         "contacts": [{"address": "jürgen@bücher.example"}]}
      ],
      "rules": {"auto_cc": )json" + auto_cc + R"json(}
    })json";
}

std::shared_ptr<const AccountDirectory> make(const std::string& auto_cc) {
    auto r = parse_rules(rules_json(auto_cc), "rules.json");
    INFO((r.diagnostics.empty() ? std::string() : r.diagnostics.front().to_string()));
    REQUIRE(r.rules);
    return std::make_shared<AccountDirectory>(r.rules);
}

enum class Dir { normal, team, off };

struct Row {
    const char* name;
    std::string from;
    std::vector<std::string> to, cc, bcc;
    std::vector<std::string> add;      // addresses added, in order
    std::vector<std::string> notices;  // kinds, in order
    Dir dir = Dir::normal;
};

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("compose.check decision table", "[compose][table]") {
    const auto normal = make(R"({"enabled": true, "off_for_roles": ["support"]})");
    const auto team = make(R"({"enabled": true, "team": true})");
    const auto off = make(R"({"enabled": false})");
    const std::string mia = "mia@vendor.example";
    const std::vector<Row> rows = {
        {"someone else writes to a contact", mia, {"jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"the owner writes", "bob@vendor.example", {"jane@acme.example"}, {}, {}, {}, {}},
        {"the owner writes from a second address", "robert@vendor.example", {"jane@acme.example"}, {}, {}, {}, {}},
        {"the owner writes with a display name, upper case", "Bob Rep <BOB@VENDOR.EXAMPLE>", {"jane@acme.example"}, {}, {}, {}, {}},
        {"owner already in Cc", mia, {"jane@acme.example"}, {"bob@vendor.example"}, {}, {}, {"reference"}},
        {"owner already in To", mia, {"jane@acme.example", "bob@vendor.example"}, {}, {}, {}, {"reference"}},
        {"owner in Bcc under a second address", mia, {"jane@acme.example"}, {}, {"robert@vendor.example"}, {}, {"reference"}},
        {"owner in Cc with display name and case", mia, {"jane@acme.example"}, {"Bob Rep <Bob@Vendor.Example>"}, {}, {}, {"reference"}},
        {"owner in Cc quoted", mia, {"jane@acme.example"}, {"\"Rep, Bob\" <\"bob\"@vendor.example>"}, {}, {}, {"reference"}},
        {"contact with display name, upper case", mia, {"Jane Doe <JANE@ACME.EXAMPLE>"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"contact with a quoted display name", mia, {"\"Doe, Jane\" <jane@acme.example>"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"contact in angle brackets only", mia, {"<jane@acme.example>"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"contact only in Bcc", mia, {}, {}, {"jane@acme.example"}, {"bob@vendor.example"}, {"reference"}},
        {"contact named twice", mia, {"jane@acme.example", "Jane <jane@acme.example>"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"sender with display name and case", "Mia <MIA@VENDOR.EXAMPLE>", {"jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"domain-only match", mia, {"carl@acme.example"}, {}, {}, {"bob@vendor.example"}, {"domain", "reference"}},
        {"subdomain match", mia, {"ann@sales.acme.example"}, {}, {}, {"bob@vendor.example"}, {"domain", "reference"}},
        {"look-alike domain is no match", mia, {"x@acme.example.evil.example"}, {}, {}, {}, {}},
        {"public-domain contact by exact address", mia, {"hank.scorpio@gmail.com"}, {}, {}, {"rita@vendor.example"}, {"prospect"}},
        {"public-domain contact in upper case", mia, {"HANK.SCORPIO@GMAIL.COM"}, {}, {}, {"rita@vendor.example"}, {"prospect"}},
        {"public domain never matches by domain", mia, {"someone@gmail.com"}, {}, {}, {}, {}},
        {"internal only", mia, {"rita@vendor.example", "tom@vendor.example"}, {}, {}, {}, {}},
        {"internal subdomain only", mia, {"x@eu.vendor.example"}, {}, {}, {}, {}},
        {"two accounts, one owner: added once", mia, {"jane@acme.example", "bill@initech.example"}, {}, {}, {"bob@vendor.example"}, {"reference", "domain", "lost"}},
        {"two accounts, two owners", mia, {"jane@acme.example"}, {"hank.scorpio@gmail.com"}, {}, {"bob@vendor.example", "rita@vendor.example"}, {"reference", "prospect"}},
        {"prospect owner in Bcc under a second address", mia, {"hank.scorpio@gmail.com"}, {}, {"rita.rep@eu.vendor.example"}, {}, {"prospect"}},
        {"prospect: a team member is not warned", "tom@vendor.example", {"hank.scorpio@gmail.com"}, {}, {}, {"rita@vendor.example"}, {}},
        {"prospect: its owner writes", "rita@vendor.example", {"hank.scorpio@gmail.com"}, {}, {}, {}, {}},
        {"lost: someone else writes", mia, {"bill@initech.example"}, {}, {}, {"bob@vendor.example"}, {"domain", "lost"}},
        {"lost: the owner is told too (no domain notice)", "bob@vendor.example", {"bill@initech.example"}, {}, {}, {}, {"lost"}},
        {"per-account off", mia, {"x@umbrella.example"}, {}, {}, {}, {"domain"}},
        {"per-account off beside one that is on", mia, {"x@umbrella.example", "jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"domain", "reference"}},
        {"per-role off (support)", "sam@vendor.example", {"jane@acme.example"}, {}, {}, {}, {"reference"}},
        {"per-role off keeps the prospect notice", "sam@vendor.example", {"hank.scorpio@gmail.com"}, {}, {}, {}, {"prospect"}},
        {"a manager is not off", "max@vendor.example", {"jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"a team member writes: owner copied", "tom@vendor.example", {"jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"team member present, owner not", mia, {"jane@acme.example"}, {"tom@vendor.example"}, {}, {"bob@vendor.example"}, {"reference"}},
        {"IDN contact in UTF-8", mia, {"jürgen@bücher.example"}, {}, {}, {"rita@vendor.example"}, {}},
        {"IDN contact in punycode", mia, {"jürgen@xn--bcher-kva.example"}, {}, {}, {"rita@vendor.example"}, {}},
        {"IDN domain match, upper case", mia, {"Info <info@BÜCHER.example>"}, {}, {}, {"rita@vendor.example"}, {"domain"}},
        {"not an address", mia, {"not an address"}, {}, {}, {}, {"unknown_address"}},
        {"not an address beside a contact", mia, {"jane@acme.example", "oops"}, {}, {}, {"bob@vendor.example"}, {"unknown_address", "reference"}},
        {"no From at all", "", {"jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"an outside sender", "x@partner.example", {"jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"reference"}},
        {"team on: team copied too", mia, {"jane@acme.example"}, {}, {}, {"bob@vendor.example", "tom@vendor.example"}, {"reference"}, Dir::team},
        {"team on: the team member writing is not added", "tom@vendor.example", {"jane@acme.example"}, {}, {}, {"bob@vendor.example"}, {"reference"}, Dir::team},
        {"team on: team already present", mia, {"jane@acme.example"}, {"tom@vendor.example"}, {}, {"bob@vendor.example"}, {"reference"}, Dir::team},
        {"team on: a person on two teams is added once", mia, {"jane@acme.example", "hank.scorpio@gmail.com"}, {}, {}, {"bob@vendor.example", "tom@vendor.example", "rita@vendor.example"}, {"reference", "prospect"}, Dir::team},
        {"auto-cc off: nobody added, notices stay", mia, {"jane@acme.example"}, {}, {}, {}, {"reference"}, Dir::off},
        {"auto-cc off: lost still told", mia, {"bill@initech.example"}, {}, {}, {}, {"domain", "lost"}, Dir::off},
    };
    REQUIRE(rows.size() >= 40);
    for (const auto& row : rows) {
        INFO("case: " << row.name);
        const auto& dir = row.dir == Dir::team ? *team : row.dir == Dir::off ? *off : *normal;
        const auto advice = check_compose({row.from, row.to, row.cc, row.bcc}, dir);
        V added, kinds;
        for (const auto& a : advice.add_cc) added.push_back(a.address);
        for (const auto& n : advice.notices) kinds.push_back(n.kind);
        CHECK(added == row.add);
        CHECK(kinds == row.notices);
        for (const auto& a : advice.add_cc) CHECK((a.role == "owner" || a.role == "team"));
    }
}

TEST_CASE("compose.check texts: prospect, lost, domain", "[compose]") {
    const auto dir = make(R"({"enabled": true})");
    auto advice = check_compose({"mia@vendor.example", {"hank.scorpio@gmail.com"}, {}, {}}, *dir);
    REQUIRE(advice.notices.size() == 1);
    CHECK(advice.notices[0].text == "Globex is a new prospect of Rita Rep; talk to Rita Rep before writing.");
    CHECK(advice.add_cc[0].role == "owner");
    advice = check_compose({"mia@vendor.example", {"bill@initech.example"}, {}, {}}, *dir);
    REQUIRE(advice.notices.size() == 2);
    CHECK(advice.notices[0].text == "bill@initech.example is not a listed contact of Initech; it matches the account only by its domain. Check the recipient.");
    CHECK(advice.notices[1].text == "Initech is a lost account (went with Hooli); the competitor's delivery is due 2027-01-31.");
}

TEST_CASE("compose.check texts: why each person is added names the recipient's match", "[compose]") {
    const auto team = make(R"({"enabled": true, "team": true})");
    // Two recipients at one account: the reason is the first one's (the account is handled once).
    auto advice = check_compose({"mia@vendor.example", {"ann@sales.acme.example", "jane@acme.example"}, {}, {}}, *team);
    REQUIRE(advice.add_cc.size() == 2);
    CHECK(advice.add_cc[0].address == "bob@vendor.example");
    CHECK(advice.add_cc[0].reason ==
          "Bob Rep owns Acme Corp (sales.acme.example is a subdomain of acme.example, a domain of Acme Corp (acme))");
    CHECK(advice.add_cc[1].address == "tom@vendor.example");
    CHECK(advice.add_cc[1].role == "team");
    CHECK(advice.add_cc[1].reason ==
          "Tom Team is on Acme Corp's team (sales.acme.example is a subdomain of acme.example, a domain of Acme Corp (acme))");
    // The owner already there: the team member alone, with the same reason.
    advice = check_compose({"mia@vendor.example", {"Jane <JANE@acme.example>"}, {"bob@vendor.example"}, {}}, *team);
    REQUIRE(advice.add_cc.size() == 1);
    CHECK(advice.add_cc[0].reason ==
          "Tom Team is on Acme Corp's team (jane@acme.example is listed as a contact of Acme Corp (acme))");
    advice = check_compose({"mia@vendor.example", {"bill@initech.example"}, {}, {}}, *team);
    REQUIRE(advice.add_cc.size() == 1);
    CHECK(advice.add_cc[0].reason == "Bob Rep owns Initech (initech.example is a domain of Initech (initech))");
}

TEST_CASE("compose.check with a long recipient list: the owner far down counts, each domain told once", "[compose]") {
    const auto dir = make(R"({"enabled": true})");
    ComposeInput input{"mia@vendor.example", {}, {}, {}};
    for (int i = 0; i < 60; ++i) input.to.push_back("n" + std::to_string(i) + "@elsewhere.example");
    input.cc = {"carl@acme.example", "carl@acme.example", "dora@acme.example"};
    auto advice = check_compose(input, *dir);
    REQUIRE(advice.add_cc.size() == 1);
    CHECK(advice.add_cc[0].address == "bob@vendor.example");
    std::vector<std::string> kinds, texts;
    for (const auto& n : advice.notices) kinds.push_back(n.kind), texts.push_back(n.text);
    // The account's own notices come with its first recipient.
    CHECK(kinds == std::vector<std::string>{"domain", "reference", "domain"});
    CHECK(texts[0].rfind("carl@acme.example is not", 0) == 0);
    CHECK(texts[2].rfind("dora@acme.example is not", 0) == 0);
    input.bcc = {"Robert <ROBERT@vendor.example>"};  // the owner, 64th on the message
    advice = check_compose(input, *dir);
    CHECK(advice.add_cc.empty());
}

TEST_CASE("rules: auto_cc keys are validated", "[compose][rules]") {
    auto r = parse_rules(rules_json(R"({"enabled": true, "off_for_roles": ["suport"], "team": "yes"})"), "rules.json");
    CHECK_FALSE(r.rules);
    std::string all;
    for (const auto& d : r.diagnostics) all += d.to_string() + "\n";
    CHECK(all.find("$.rules.auto_cc.off_for_roles[0]") != std::string::npos);
    CHECK(all.find("$.rules.auto_cc.team") != std::string::npos);
    r = parse_rules(rules_json(R"({"enabeld": true})"), "rules.json");
    CHECK_FALSE(r.rules);
}

#include "rapport/message_decision.hpp"

TEST_CASE("Sent audit: owner in Bcc under a second address counts; relayed mail is not audited again", "[compose][audit]") {
    const auto dir = make(R"({"enabled": true})");
    MessageSummary m;
    m.from = {{"Mia", "mia@vendor.example"}};
    m.to = {{"Jane", "jane@acme.example"}};
    m.subject = "Renewal";
    m.message_id = "sent1@vendor.example";
    MessageContext sent;
    sent.mailbox = "work";
    sent.folder = "Sent";
    sent.role = FolderRole::sent;
    sent.user_address = "mia@vendor.example";
    auto kinds = [](const MessageDecision& d) {
        V out;
        for (const auto& n : d.notifications) out.push_back(n.kind);
        return out;
    };
    CHECK(kinds(decide_message(m, *dir, sent)) == V{"customer_mail", "owner_not_copied"});
    m.bcc = {{"", "Robert@Vendor.example"}};
    CHECK(kinds(decide_message(m, *dir, sent)) == V{"customer_mail"});
    m.bcc.clear();
    sent.relayed = true;
    CHECK(kinds(decide_message(m, *dir, sent)) == V{"customer_mail"});
    // Team copies (rules.auto_cc.team) are never reported as a missing owner.
    const auto team = make(R"({"enabled": true, "team": true})");
    m.cc = {{"", "bob@vendor.example"}};
    sent.relayed = false;
    CHECK(kinds(decide_message(m, *team, sent)) == V{"customer_mail"});
}

#include "rapport/settings.hpp"

TEST_CASE("settings: mailboxes[].submission", "[settings][submission]") {
    PathContext ctx;
    ctx.settings_dir = "/home/mia/.config/rapport";
    auto parse = [&](const std::string& mailbox_extra) {
        return parse_settings(R"({"rules": "rules.json", "api": {"port": 7717}, "state_dir": "s", "mailboxes": [{"id": "work",
            "imap": {"host": "127.0.0.1", "security": "none", "username": "m", "password": "p"})" + mailbox_extra + "}]}",
                              "settings.json", ctx);
    };
    auto ok = parse(R"(, "smtp": {"host": "smtp.example", "username": "m", "password": "p"},
                        "submission": {"port": 2525, "max_message_size": 1048576, "max_recipients": 50})");
    INFO((ok.diagnostics.empty() ? std::string() : ok.diagnostics.front().to_string()));
    REQUIRE(ok.settings);
    REQUIRE(ok.settings->mailboxes[0].submission);
    CHECK(ok.settings->mailboxes[0].submission->port == 2525);
    CHECK(ok.settings->mailboxes[0].submission->max_message_size == 1048576);
    CHECK(ok.settings->mailboxes[0].submission->max_recipients == 50);
    CHECK(ok.settings->mailboxes[0].submission->max_connections == 20);
    auto errors = [](const SettingsResult& r) {
        std::string all;
        for (const auto& d : r.diagnostics) all += d.to_string() + "\n";
        return all;
    };
    auto no_smtp = parse(R"(, "submission": {"port": 2525})");
    CHECK_FALSE(no_smtp.settings);
    CHECK(errors(no_smtp).find("$.mailboxes[0].submission") != std::string::npos);
    auto api_port = parse(R"(, "smtp": {"host": "s.example"}, "submission": {"port": 7717})");
    CHECK(errors(api_port).find("is the API's port") != std::string::npos);
    auto typo = parse(R"(, "smtp": {"host": "s.example"}, "submission": {"prot": 2525})");
    CHECK_FALSE(typo.settings);
    auto tiny = parse(R"(, "smtp": {"host": "s.example"}, "submission": {"port": 2525, "max_message_size": 10})");
    CHECK_FALSE(tiny.settings);
}
