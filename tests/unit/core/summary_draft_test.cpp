// The summary draft's content: recipients per rules.summary_drafts.recipients, what the body
// says, what untrusted calendar text becomes, and template validation with the positions an
// admin reads in --check-config. The MIME form is tested in tests/unit/mime/draft_message_test.
// Template diagnostics are golden files: tests/data/config/templates/NAME.txt gives exactly
// NAME.expected (RAPPORT_UPDATE_GOLDEN=1 rewrites them; review the diff).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "rapport/rules.hpp"
#include "rapport/summary_draft.hpp"
#include "test_process.hpp"

namespace fs = std::filesystem;
using namespace rapport;

namespace {

// A literal with its NUL bytes.
template <std::size_t N>
std::string bytes(const char (&s)[N]) {
    return std::string(s, N - 1);
}

SummaryContext acme_call() {
    SummaryContext c;
    c.title = "Quarterly review";
    c.description = "1. Roadmap\n2. Pricing for 2027\n";
    c.location = "Teams";
    c.date = "2026-12-01";
    c.local_when = "Tuesday 1 December 2026, 10:00–10:45 (Europe/Berlin)";
    c.attendees = {
        {"Jane Doe", "jane@acme.example", "Acme Corp", true, true, "ACCEPTED"},
        {"Raj Patel", "mailto:Raj@ACME.example", "Acme Corp", true, false, "TENTATIVE"},
        {"Carl Declined", "carl@acme.example", "Acme Corp", true, false, "DECLINED"},
        {"Bob Rep", "bob@vendor.example", "Vendor Inc", false, false, "ACCEPTED"},
        {"Mia Marketing", "mia@vendor.example", "Vendor Inc", false, false, ""},
    };
    c.account_names = {"Acme Corp"};
    c.recent = {{"2026-11-28", true, "Jane Doe", "Re: Pricing"},
                {"2026-11-20", false, "Raj Patel", "Proposal"},
                {"2026-10-01", true, "Jane Doe", "Too old to show"}};
    c.open_nudges = {"Ask Acme for a reference call"};
    c.contact_notes = {"Raj Patel bounced on 2026-11-20"};
    c.user = {"Mia Marketing", "mia@vendor.example"};
    c.owner = DraftAddress{"Bob Rep", "bob@vendor.example"};
    return c;
}

std::vector<std::string> addresses(const std::vector<DraftAddress>& list) {
    std::vector<std::string> out;
    for (const auto& a : list) out.push_back(a.address);
    return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::size_t code_points(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) {
        return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    }));
}

// The properties every composed draft has, whatever went in.
void check_clean(const ComposedDraft& d) {
    CHECK_FALSE(d.subject.empty());
    CHECK(code_points(d.subject) <= ComposeLimits::max_subject_chars);
    for (char ch : d.subject) CHECK(static_cast<unsigned char>(ch) >= 0x20);
    REQUIRE_FALSE(d.body.empty());
    CHECK(d.body.back() == '\n');
    for (char ch : d.body) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x20) CHECK((ch == '\n' || ch == '\t'));
        CHECK(u != 0x7F);
    }
    for (const auto* list : {&d.to, &d.cc})
        for (const auto& a : *list) {
            CHECK(a.address.find_first_of(" \r\n\"<>,") == std::string::npos);
            CHECK(a.name.find_first_of("\r\n") == std::string::npos);
        }
}

std::string render(const Diagnostics& ds) {
    std::string out;
    for (const auto& d : ds) out += d.to_string() + "\n";
    return out;
}

}  // namespace

TEST_CASE("recipients attendees: the customers who did not decline in To, the owner in Cc", "[summary]") {
    const auto d = compose_summary(acme_call(), SummaryTemplate{}, DraftRecipients::attendees);
    check_clean(d);
    // Raj's "mailto:" and upper-case domain are the calendar's; the local part keeps its case.
    CHECK(addresses(d.to) == std::vector<std::string>{"jane@acme.example", "Raj@acme.example"});
    CHECK(d.to[0].name == "Jane Doe");
    REQUIRE(d.cc.size() == 1);
    CHECK(d.cc[0] == DraftAddress{"Bob Rep", "bob@vendor.example"});
    CHECK(d.skipped.empty());
}

TEST_CASE("recipients attendees when the user is the owner: no Cc, and never the user in To", "[summary]") {
    auto c = acme_call();
    c.user = {"Bob Rep", "bob@vendor.example"};
    c.user_is_owner = true;
    auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    CHECK(addresses(d.to) == std::vector<std::string>{"jane@acme.example", "Raj@acme.example"});
    CHECK(d.cc.empty());

    // Same address in another case, flag not set by the adapter: still the user.
    c.user_is_owner = false;
    c.owner = DraftAddress{"Bob", "BOB@vendor.example"};
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    CHECK(d.cc.empty());

    // A customer listed twice (organizer and attendee) is addressed once.
    c = acme_call();
    c.attendees.push_back({"Jane D.", "JANE@acme.example", "Acme Corp", true, true, "ACCEPTED"});
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    CHECK(addresses(d.to) == std::vector<std::string>{"jane@acme.example", "Raj@acme.example"});
}

TEST_CASE("recipients owner and self", "[summary]") {
    auto c = acme_call();
    auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::owner);
    CHECK(addresses(d.to) == std::vector<std::string>{"bob@vendor.example"});
    CHECK(d.cc.empty());

    c.user = {"Bob Rep", "bob@vendor.example"};
    c.user_is_owner = true;
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::owner);
    CHECK(addresses(d.to) == std::vector<std::string>{"bob@vendor.example"});

    c = acme_call();
    c.owner.reset();
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::owner);
    CHECK(addresses(d.to) == std::vector<std::string>{"mia@vendor.example"});  // no owner: to self

    d = compose_summary(acme_call(), SummaryTemplate{}, DraftRecipients::self);
    CHECK(d.to == std::vector<DraftAddress>{{"Mia Marketing", "mia@vendor.example"}});
    CHECK(d.cc.empty());
}

TEST_CASE("an address that is not a plain mail address is left out and reported", "[summary][bad-input]") {
    auto c = acme_call();
    c.attendees = {
        {"Eve", "eve@acme.example\r\nBcc: all@acme.example", "Acme Corp", true, false, ""},
        {"Quoted", "\"jane\"@acme.example", "Acme Corp", true, false, ""},
        {"Comma", "a@acme.example, b@acme.example", "Acme Corp", true, false, ""},
        {"No at", "jane.acme.example", "Acme Corp", true, false, ""},
        {"Literal", "jane@[192.0.2.1]", "Acme Corp", true, false, ""},
        {"Unicode", "zoë@acme.example", "Acme Corp", true, false, ""},
        {"Nul", std::string("nul@acme.example\0x", 18), "Acme Corp", true, false, ""},
        {"Angle", " <angle@acme.example> ", "Acme Corp", true, false, ""},
        {"IDN", "hans@bücher.example", "Bücher GmbH", true, false, ""},
    };
    const auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    check_clean(d);
    CHECK(addresses(d.to) == std::vector<std::string>{"angle@acme.example", "hans@xn--bcher-kva.example"});
    REQUIRE(d.skipped.size() == 7);
    CHECK(d.skipped[0].reason == "the address has a line break");
    CHECK(d.skipped[0].given.address == "eve@acme.example Bcc: all@acme.example");  // one line, for the log
    CHECK(d.skipped[1].reason == "not a mail address (quoted or special characters before the @)");
    CHECK(d.skipped[2].reason == "the address has a space or a control character");
    CHECK(d.skipped[3].reason == "not a mail address");
    CHECK(d.skipped[4].reason == "address literals ([1.2.3.4]) are not used");
    CHECK(contains(d.skipped[5].reason, "not ASCII"));
    CHECK(d.skipped[6].reason == "the address has a space or a control character");
}

TEST_CASE("display names with quotes and line breaks become one clean line", "[summary][bad-input]") {
    auto c = acme_call();
    c.attendees = {{"Jane \"The Boss\"\r\nDoe,\tCEO\0", "jane@acme.example", "Acme Corp", true, false, ""},
                   {std::string(5000, 'x'), "long@acme.example", "Acme Corp", true, false, ""},
                   {"raj@acme.example", "raj@acme.example", "Acme Corp", true, false, ""}};
    c.attendees[0].name.push_back('\0');
    const auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    check_clean(d);
    REQUIRE(d.to.size() == 3);
    CHECK(d.to[0].name == "Jane \"The Boss\" Doe, CEO");
    CHECK(code_points(d.to[1].name) == ComposeLimits::max_name_chars);
    CHECK(d.to[1].name.substr(d.to[1].name.size() - 3) == "…");
    CHECK(d.to[2].name.empty());  // a name that only repeats the address says nothing
    CHECK(contains(d.body, "- Jane \"The Boss\" Doe, CEO (Acme Corp)\n"));
}

TEST_CASE("the subject is one line, capped, from the template", "[summary][bad-input]") {
    auto c = acme_call();
    auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    CHECK(d.subject == "Summary: Quarterly review — 2026-12-01");

    // The bidirectional override (U+202E) is dropped, not replaced: it is invisible.
    c.title = bytes("Hi\r\nBcc: evil@example.com\0\x01\x1b[31m  red\u202Eevil");
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    CHECK(d.subject == "Summary: Hi Bcc: evil@example.com [31m redevil — 2026-12-01");

    c.title = std::string(1 << 20, 'A');  // 1 MB
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    check_clean(d);
    CHECK(code_points(d.subject) == ComposeLimits::max_subject_chars);
    CHECK(d.subject.substr(d.subject.size() - 3) == "…");

    c.title = "\xff\xfe invalid \xc3";
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    CHECK(d.subject == "Summary: \uFFFD\uFFFD invalid \uFFFD — 2026-12-01");

    c.title = "";
    d = compose_summary(c, SummaryTemplate{"{account}: {title} ({date}) {{internal}}", ""}, DraftRecipients::self);
    CHECK(d.subject == "Acme Corp: (no title) (2026-12-01) {internal}");
}

TEST_CASE("the default body: notes for the user, then the summary to fill in", "[summary]") {
    const auto d = compose_summary(acme_call(), SummaryTemplate{}, DraftRecipients::attendees);
    const std::string expected =
        "--- Notes from Rapport, for you only: delete them before sending ---\n"
        "Account: Acme Corp\n"
        "Attendees:\n"
        "- Jane Doe (Acme Corp) ★ champion\n"
        "- Raj Patel (Acme Corp) (tentative)\n"
        "- Carl Declined (Acme Corp) (declined)\n"
        "- Bob Rep (Vendor Inc)\n"
        "- Mia Marketing (Vendor Inc)\n"
        "Recent mail with this account (last 30 days):\n"
        "- 2026-11-28 from Jane Doe: Re: Pricing\n"
        "- 2026-11-20 to Raj Patel: Proposal\n"
        "Open nudges:\n"
        "- Ask Acme for a reference call\n"
        "Contacts:\n"
        "- Raj Patel bounced on 2026-11-20\n"
        "--- End of notes ---\n"
        "\n"
        "Hello,\n"
        "\n"
        "Thank you for your time today. Here is a short summary of our meeting.\n"
        "\n"
        "Quarterly review\n"
        "Tuesday 1 December 2026, 10:00–10:45 (Europe/Berlin)\n"
        "Location: Teams\n"
        "Participants: Jane Doe (Acme Corp), Raj Patel (Acme Corp), Bob Rep (Vendor Inc), Mia Marketing (Vendor Inc)\n"
        "\n"
        "Agenda:\n"
        "1. Roadmap\n"
        "2. Pricing for 2027\n"
        "\n"
        "What we discussed:\n"
        "-\n"
        "\n"
        "Decisions:\n"
        "-\n"
        "\n"
        "Next steps (owner, date):\n"
        "-\n"
        "\n"
        "Best regards,\n"
        "Mia Marketing\n";
    CHECK(d.body == expected);
}

TEST_CASE("empty context leaves no empty headings", "[summary]") {
    SummaryContext c;
    c.title = "Intro call";
    c.date = "2026-12-01";
    c.user = {"", "mia@vendor.example"};
    const auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    check_clean(d);
    CHECK_FALSE(contains(d.body, "Recent mail"));
    CHECK_FALSE(contains(d.body, "Open nudges"));
    CHECK_FALSE(contains(d.body, "Agenda"));
    CHECK_FALSE(contains(d.body, "Location"));
    CHECK_FALSE(contains(d.body, "\n\n\n"));
    CHECK(contains(d.body, "Intro call\n2026-12-01\n"));  // no local_when: the date
    CHECK(contains(d.body, "Best regards,\nmia@vendor.example\n"));
    CHECK(d.to.empty());
    CHECK(d.cc.empty());
}

TEST_CASE("the agenda: trimmed, control characters gone, capped at 4,000 characters", "[summary][bad-input]") {
    auto c = acme_call();
    c.description = bytes("\r\n\r\n  Intro\t\x01\x7f  \r\n\r\n\r\n\r\nLine\0with NUL\rlast  \n\n");
    auto d = compose_summary(c, SummaryTemplate{"s", "{agenda}"}, DraftRecipients::self);
    CHECK(d.body == "  Intro\n\nLinewith NUL\nlast\n");

    c.description = std::string(1 << 20, 'x');  // 1 MB on one line
    d = compose_summary(c, SummaryTemplate{"s", "{agenda}"}, DraftRecipients::self);
    check_clean(d);
    CHECK(code_points(d.body) == ComposeLimits::max_agenda_chars + 1);  // + the final LF
    CHECK(contains(d.body, "x…\n"));

    // A megabyte of white space before the text costs nothing of the 4,000 characters.
    std::string blank;
    for (int i = 0; i < (1 << 18); ++i) blank += " \t\r\n";
    c.description = blank + "Real agenda  \n" + blank;
    d = compose_summary(c, SummaryTemplate{"s", "{agenda}"}, DraftRecipients::self);
    CHECK(d.body == "Real agenda\n");

    std::string lines;
    for (int i = 0; i < 100000; ++i) lines += "line " + std::to_string(i) + "\r\n";
    c.description = lines;
    d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    check_clean(d);
    CHECK(contains(d.body, "line 0\nline 1\n"));
    CHECK(contains(d.body, "…\n\nWhat we discussed:"));
    CHECK(d.body.size() < 8000);
}

TEST_CASE("long lists are cut with a count", "[summary][bad-input]") {
    auto c = acme_call();
    c.attendees.clear();
    for (int i = 0; i < 10000; ++i)
        c.attendees.push_back({"Person " + std::to_string(i), "p" + std::to_string(i) + "@acme.example", "Acme Corp",
                               true, false, ""});
    for (int i = 0; i < 30; ++i) c.open_nudges.push_back("nudge " + std::to_string(i));
    const auto d = compose_summary(c, SummaryTemplate{}, DraftRecipients::attendees);
    check_clean(d);
    CHECK(d.to.size() == ComposeLimits::max_recipients);
    CHECK(d.skipped.size() == 10000 - ComposeLimits::max_recipients);
    CHECK(d.skipped.back().reason == "more than 100 recipients");
    CHECK(contains(d.body, "- … and 9950 more\n"));
    CHECK(contains(d.body, "Person 49 (Acme Corp) and 9950 more\n"));
    CHECK(contains(d.body, "- … and 21 more\n"));  // 31 nudges, 10 shown
    CHECK(d.body.size() < 16000);
}

TEST_CASE("a custom body template: variables, conditions, literal braces", "[summary]") {
    SummaryTemplate t;
    t.subject = "{title}";
    t.body = "\xEF\xBB\xBFHi {{team}}!\r\n"
             "{?owner}Owner: {owner}\r\n"
             "{?location}Where: {location}\r\n"
             "  {location}  \r\n"
             "{when} / {date}\r\n"
             "{user}";
    auto c = acme_call();
    c.location = "";
    auto d = compose_summary(c, t, DraftRecipients::self);
    CHECK(d.body == "Hi {team}!\nOwner: Bob Rep\nTuesday 1 December 2026, 10:00–10:45 (Europe/Berlin) / 2026-12-01\n"
                    "Mia Marketing\n");

    // An unchecked template never breaks composition: what is not a variable stays as text.
    t.body = bytes("{nope} {title\n}} {\0}");
    d = compose_summary(c, t, DraftRecipients::self);
    check_clean(d);
    CHECK(d.body == "{nope} {title\n} {}\n");

    // A template that repeats the largest variable cannot make an unbounded body.
    c.description = std::string(1 << 20, 'y');
    t.body.clear();
    for (int i = 0; i < 2000; ++i) t.body += "{agenda}\n";
    d = compose_summary(c, t, DraftRecipients::self);
    check_clean(d);
    CHECK(d.body.size() <= 256 * 1024 + 8);
}

TEST_CASE("template checks give the position an admin can find", "[summary][template]") {
    auto ds = check_template("Hello {title}\n\tSee {titel} and {Agenda}\n", TemplatePart::body, "summary.txt");
    CHECK(render(ds) ==
          "summary.txt:2:6: unknown variable {titel}; did you mean {title}?\n"
          "summary.txt:2:18: {Agenda} is not a variable name (lower-case letters, digits and '_'); write {{ for a literal brace\n");

    ds = check_template("{title} — {agenda}", TemplatePart::subject, "rules.json", "$.rules.summary_drafts.subject");
    CHECK(render(ds) == "rules.json: $.rules.summary_drafts.subject: {agenda} has several lines and cannot be used "
                        "in the subject (at character 11)\n");
    ds = check_template("{?account}x", TemplatePart::subject, "rules.json", "$.s");
    CHECK(ds.size() == 1);
    ds = check_template("a\nb", TemplatePart::subject, "rules.json", "$.s");
    CHECK(render(ds) == "rules.json: $.s: the subject must be one line (at character 2)\n");
    ds = check_template(std::string(TemplateLimits::max_body_bytes + 1, 'x'), TemplatePart::body, "t.txt");
    CHECK(render(ds) == "t.txt: the template is too large (65537 bytes; the limit is 65536 bytes)\n");
    ds = check_template(" \r\n\n", TemplatePart::body, "t.txt");
    CHECK(render(ds) == "t.txt: the template is empty; remove $.rules.summary_drafts.template to use the built-in one\n");
    ds = check_template(std::string(100, '}'), TemplatePart::body, "t.txt");
    CHECK(ds.empty());  // 50 literal "}"
    ds = check_template(std::string(101, '}'), TemplatePart::body, "t.txt");
    CHECK(render(ds) == "t.txt:1:101: unbalanced '}'; write }} for a literal brace\n");
    ds = check_template(std::string(1000, '{'), TemplatePart::body, "t.txt");
    CHECK(ds.empty());
    std::string many;
    for (int i = 0; i < 21; ++i) many += "} ";
    ds = check_template(many, TemplatePart::body, "t.txt");
    CHECK(ds.size() == 21);  // 20 shown, then the count
    CHECK(ds.back().to_string() == "t.txt: and 1 more problems");
    ds = check_template(std::string(999, '{') + "\n", TemplatePart::body, "t.txt");
    CHECK(render(ds) == "t.txt:1:999: unbalanced '{': no '}' closes it on this line; write {{ for a literal brace\n");
    ds = check_template(bytes("a\0b\x01" "c\xff"), TemplatePart::body, "t.txt");
    CHECK(render(ds) == "t.txt:1:2: a NUL byte; the template must be plain text\n"
                        "t.txt:1:4: control character U+0001; the template must be plain text\n"
                        "t.txt:1:6: invalid UTF-8 (the template must be UTF-8 text)\n");

    CHECK(check_template(default_body_template(), TemplatePart::body, "built-in").empty());
    CHECK(check_template(SummaryTemplate{}.subject, TemplatePart::subject, "built-in", "$").empty());
}

TEST_CASE("each broken template file gives its exact errors", "[summary][template]") {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(test::source_dir() + "/tests/data/config/templates"))
        if (e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 4);
    for (const auto& file : files) {
        INFO("case " << file.filename().string());
        const auto actual = render(check_template(test::read_file(file.string()), TemplatePart::body,
                                                  file.filename().string()));
        CHECK_FALSE(actual.empty());
        fs::path expected = file;
        expected.replace_extension(".expected");
        if (std::getenv("RAPPORT_UPDATE_GOLDEN")) test::write_file(expected.string(), actual);
        REQUIRE(fs::exists(expected));
        CHECK(actual == test::read_file(expected.string()));
    }
}

TEST_CASE("the shipped example template is the built-in one, and valid", "[summary][template]") {
    const auto text = test::read_file(test::source_dir() + "/packaging/examples/summary-template.txt");
    CHECK(check_template(text, TemplatePart::body, "summary-template.txt").empty());
    CHECK(normalize_template_text(text) == default_body_template());
}

TEST_CASE("rules accept subject and template, and check the subject", "[summary][config]") {
    const std::string head = R"j({"organization": {"name": "V", "domains": ["vendor.example"]},
        "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]}],
        "accounts": [{"id": "a", "name": "A", "owner": "bob"}],
        "rules": {"summary_drafts": )j";
    auto r = parse_rules(head + R"j({"subject": "Recap: {title} ({account})", "template": "summary.txt"}}})j",
                         "rules.json");
    INFO(render(r.diagnostics));
    REQUIRE(r.rules);
    CHECK(r.rules->rules.summary_drafts.draft_template.subject == "Recap: {title} ({account})");
    CHECK(r.rules->rules.summary_drafts.template_file == "summary.txt");
    CHECK(r.rules->rules.summary_drafts.draft_template.body.empty());  // read by load_rules

    r = parse_rules(head + R"j({}}})j", "rules.json");
    REQUIRE(r.rules);
    CHECK(r.rules->rules.summary_drafts.draft_template.subject == "Summary: {title} — {date}");
    CHECK(r.rules->rules.summary_drafts.template_file.empty());

    r = parse_rules(head + R"j({"subject": "", "template": 3}}})j", "rules.json");
    CHECK(render(r.diagnostics) ==
          "rules.json: $.rules.summary_drafts.subject: must not be empty\n"
          "rules.json: $.rules.summary_drafts.template: expected a string, got a number\n");
}
