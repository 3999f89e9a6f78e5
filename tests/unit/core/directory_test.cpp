// The account directory answers "whose is this address, and why" for every form of address
// a mail client shows.
#include <catch2/catch.hpp>

#include "rapport/directory.hpp"

using namespace rapport;

namespace {

std::shared_ptr<const Rules> sample_rules() {
    auto r = parse_rules(R"json({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [
        {"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example", "bob.rep@gmail.com"]},
        {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"}],
      "accounts": [
        {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
         "contacts": [{"address": "jane@acme.example", "name": "Jane Doe", "champion": true},
                      {"address": "jane.private@gmail.com", "name": "Jane (private)"}]},
        {"id": "acme-eu", "name": "Acme Europe", "domains": ["eu.acme.example"], "owner": "mia"},
        {"id": "buecher", "name": "Bücher GmbH", "domains": ["bücher.example"], "owner": "bob"},
        {"id": "globex", "name": "Globex", "owner": "bob",
         "contacts": [{"address": "hank@globex-mail.example"}]}],
      "public_domains": ["freemail.example", "megamail.*"]
    })json", "rules.json");
    INFO((r.diagnostics.empty() ? "" : r.diagnostics[0].to_string()));
    REQUIRE(r.rules);
    return r.rules;
}

}  // namespace

TEST_CASE("an exact contact wins and names the contact", "[directory]") {
    AccountDirectory dir(sample_rules());
    auto m = dir.lookup("jane@acme.example");
    CHECK(m.kind == MatchKind::contact);
    REQUIRE(m.account);
    CHECK(m.account->id == "acme");
    REQUIRE(m.contact);
    CHECK(m.contact->name == "Jane Doe");
    CHECK(m.contact->champion);
    CHECK(m.reason == "jane@acme.example is listed as a contact of Acme Corp (acme)");
    CHECK(dir.owner_of(*m.account)->name == "Bob Rep");
}

TEST_CASE("display names, angle brackets, quotes and case do not matter", "[directory]") {
    AccountDirectory dir(sample_rules());
    for (const char* form : {"JANE@ACME.EXAMPLE", "Jane Doe <jane@acme.example>",
                             "\"Doe, Jane\" <Jane@Acme.Example>", "<jane@acme.example>",
                             "\"jane\"@acme.example", "  jane@acme.example  ", "mailto:jane@acme.example"}) {
        INFO(form);
        auto m = dir.lookup(form);
        CHECK(m.kind == MatchKind::contact);
        CHECK(m.address == "jane@acme.example");
    }
}

TEST_CASE("an unlisted address at an account's domain matches by domain", "[directory]") {
    AccountDirectory dir(sample_rules());
    auto m = dir.lookup("Carl <carl@acme.example>");
    CHECK(m.kind == MatchKind::domain);
    REQUIRE(m.account);
    CHECK(m.account->id == "acme");
    CHECK(m.contact == nullptr);
    CHECK(m.reason == "acme.example is a domain of Acme Corp (acme)");
}

TEST_CASE("subdomains match their parent's account unless claimed themselves", "[directory]") {
    AccountDirectory dir(sample_rules());
    auto sales = dir.lookup("ann@sales.us.acme.example");
    CHECK(sales.kind == MatchKind::domain);
    CHECK(sales.account->id == "acme");
    CHECK(sales.reason == "sales.us.acme.example is a subdomain of acme.example, a domain of Acme Corp (acme)");
    auto eu = dir.lookup("piet@eu.acme.example");
    CHECK(eu.kind == MatchKind::domain);
    CHECK(eu.account->id == "acme-eu");
    auto eu_sub = dir.lookup("piet@nl.eu.acme.example");
    CHECK(eu_sub.account->id == "acme-eu");
    // A look-alike domain is not a subdomain.
    CHECK(dir.lookup("x@notacme.example").kind == MatchKind::none);
    CHECK(dir.lookup("x@acme.example.evil").kind == MatchKind::none);
}

TEST_CASE("public mail domains never match by domain, only listed contacts", "[directory]") {
    AccountDirectory dir(sample_rules());
    auto stranger = dir.lookup("someone@gmail.com");
    CHECK(stranger.kind == MatchKind::none);
    CHECK(stranger.reason == "gmail.com is a public mail domain; addresses there match only when listed as contacts");
    auto listed = dir.lookup("Jane.Private@GMAIL.com");
    CHECK(listed.kind == MatchKind::contact);
    CHECK(listed.account->id == "acme");
    CHECK(dir.public_domains().contains("gmx.de"));
    CHECK(dir.public_domains().contains("gmx.net"));
    CHECK(dir.public_domains().contains("yahoo.co.uk"));
    CHECK(dir.public_domains().contains("freemail.example"));    // extended in the rules
    CHECK(dir.public_domains().contains("megamail.example"));    // extended with a pattern
    CHECK_FALSE(dir.public_domains().contains("acme.example"));
    CHECK_FALSE(dir.public_domains().contains("gmx"));
}

TEST_CASE("the organisation's own domains and people are internal", "[directory]") {
    AccountDirectory dir(sample_rules());
    auto bob = dir.lookup("Bob Rep <BOB@vendor.example>");
    CHECK(bob.kind == MatchKind::internal);
    REQUIRE(bob.person);
    CHECK(bob.person->id == "bob");
    auto someone = dir.lookup("help@support.vendor.example");
    CHECK(someone.kind == MatchKind::internal);
    CHECK(someone.person == nullptr);
    CHECK(someone.reason == "support.vendor.example is a subdomain of vendor.example, one of Vendor Inc's own domains");
    // A person's private address is still internal, even on a public domain.
    auto private_address = dir.lookup("bob.rep@gmail.com");
    CHECK(private_address.kind == MatchKind::internal);
    CHECK(private_address.person->id == "bob");
}

TEST_CASE("IDN domains match in either form", "[directory]") {
    AccountDirectory dir(sample_rules());
    for (const char* form : {"hans@bücher.example", "hans@BÜCHER.example", "hans@xn--bcher-kva.example",
                             "Hans <hans@einkauf.bücher.example>"}) {
        INFO(form);
        auto m = dir.lookup(form);
        CHECK(m.kind == MatchKind::domain);
        REQUIRE(m.account);
        CHECK(m.account->id == "buecher");
    }
}

TEST_CASE("an account without domains matches only its contacts", "[directory]") {
    AccountDirectory dir(sample_rules());
    CHECK(dir.lookup("hank@globex-mail.example").kind == MatchKind::contact);
    CHECK(dir.lookup("other@globex-mail.example").kind == MatchKind::none);
}

TEST_CASE("garbage is not an address and says so", "[directory]") {
    AccountDirectory dir(sample_rules());
    for (const char* bad : {"", "not an address", "@@@", "<>", "jane@", "\x01\x02"}) {
        auto m = dir.lookup(bad);
        CHECK(m.kind == MatchKind::none);
        CHECK(m.reason == "not a mail address");
    }
}

TEST_CASE("match() answers as lookup() does, without composing the reason", "[directory]") {
    AccountDirectory dir(sample_rules());
    for (const char* form : {"jane@acme.example", "Jane Doe <JANE@acme.example>", "someone@acme.example",
                             "x@sales.eu.acme.example", "bob@vendor.example", "help@support.vendor.example",
                             "bob.rep@gmail.com", "jane.private@gmail.com", "stranger@gmail.com",
                             "a@megamail.de", "hans@bücher.example", "nobody@elsewhere.example", "garbage"}) {
        INFO(form);
        const Match full = dir.lookup(form);
        const Match quick = dir.match(form);
        CHECK(quick.kind == full.kind);
        CHECK(quick.address == full.address);
        CHECK(quick.account == full.account);
        CHECK(quick.contact == full.contact);
        CHECK(quick.person == full.person);
        CHECK_FALSE(full.reason.empty());
        CHECK(quick.reason.empty());
    }
}

TEST_CASE("explain() gives a match() answer the sentence lookup() gives, for every kind of answer", "[directory]") {
    AccountDirectory dir(sample_rules());
    struct Case {
        const char* address;
        const char* claimed;  // the claiming domain match() remembers
        const char* reason;
    };
    for (const Case& c : std::vector<Case>{
             {"Jane Doe <JANE@acme.example>", "", "jane@acme.example is listed as a contact of Acme Corp (acme)"},
             {"carl@acme.example", "acme.example", "acme.example is a domain of Acme Corp (acme)"},
             {"ann@sales.us.acme.example", "acme.example",
              "sales.us.acme.example is a subdomain of acme.example, a domain of Acme Corp (acme)"},
             {"piet@nl.eu.acme.example", "eu.acme.example",
              "nl.eu.acme.example is a subdomain of eu.acme.example, a domain of Acme Europe (acme-eu)"},
             {"bob@vendor.example", "", "bob@vendor.example is an address of Bob Rep (bob), one of your organisation's people"},
             {"office@vendor.example", "vendor.example", "vendor.example is one of Vendor Inc's own domains"},
             {"help@support.vendor.example", "vendor.example",
              "support.vendor.example is a subdomain of vendor.example, one of Vendor Inc's own domains"},
             {"someone@gmail.com", "", "gmail.com is a public mail domain; addresses there match only when listed as contacts"},
             {"x@megamail.de", "", "megamail.de is a public mail domain; addresses there match only when listed as contacts"},
             {"nobody@elsewhere.example", "",
              "elsewhere.example belongs to no account and is not one of your organisation's domains"},
             {"hans@einkauf.xn--bcher-kva.example", "xn--bcher-kva.example",
              "einkauf.xn--bcher-kva.example is a subdomain of xn--bcher-kva.example, a domain of Bücher GmbH (buecher)"},
             {"not an address", "", "not a mail address"}}) {
        INFO(c.address);
        const Match quick = dir.match(c.address);
        CHECK(quick.claimed_domain == c.claimed);
        CHECK(dir.explain(quick) == c.reason);
        CHECK(dir.lookup(c.address).reason == c.reason);
    }
}

TEST_CASE("person() and owner_of() answer from the directory's indexes as the rules do", "[directory]") {
    AccountDirectory dir(sample_rules());
    const Rules& rules = dir.rules();
    for (const char* id : {"bob", "mia", "nobody", ""}) {
        INFO(id);
        CHECK(dir.person(id) == rules.person(id));
    }
    REQUIRE(dir.person("mia"));
    CHECK(dir.person("mia")->name == "Mia Marketing");
    for (const auto& account : rules.accounts) {
        INFO(account.id);
        CHECK(dir.owner_of(account) == rules.person(account.owner));
    }
    // An account that is not one of the directory's rules is answered by its owner's id.
    Account copy = *rules.account("acme-eu");
    CHECK(dir.owner_of(copy) == dir.person("mia"));
    copy.owner = "nobody";
    CHECK(dir.owner_of(copy) == nullptr);
}

TEST_CASE("many accounts: every contact and domain is found, and no stranger", "[directory]") {
    // Enough keys that probes pass many slots of other keys (whose stored hash bits may agree).
    std::string json = R"({"organization": {"name": "V", "domains": ["v.example"]},
                           "people": [{"id": "o", "name": "O", "addresses": ["o@v.example"]}], "accounts": [)";
    const int accounts = 3000;
    for (int a = 0; a < accounts; ++a) {
        const std::string n = std::to_string(a);
        json += (a ? "," : "") + std::string(R"({"id": "a)") + n + R"(", "name": "A)" + n + R"(", "domains": ["d)" + n +
                R"(.example"], "owner": "o", "contacts": [{"address": "x@c)" + n + R"(.example"}, {"address": "y@c)" +
                n + R"(.example"}]})";
    }
    auto parsed = parse_rules(json + "]}", "rules.json");
    REQUIRE(parsed.rules);
    AccountDirectory dir(parsed.rules);
    int wrong = 0;
    for (int a = 0; a < accounts; ++a) {
        const std::string n = std::to_string(a);
        const Match contact = dir.match("y@c" + n + ".example");
        const Match domain = dir.match("z@sub.d" + n + ".example");
        wrong += contact.kind != MatchKind::contact || !contact.contact || contact.contact->address.view() != "y@c" + n + ".example" ||
                 contact.account->id != "a" + n;
        wrong += domain.kind != MatchKind::domain || domain.account->id != "a" + n || domain.claimed_domain != "d" + n + ".example";
        wrong += dir.match("z@c" + n + ".example").kind != MatchKind::none;
        wrong += dir.match("x@d" + n + ".example").kind != MatchKind::domain;
    }
    CHECK(wrong == 0);
}
