// parse_rules reads a valid file in one streaming pass (daemon/core/rules_stream.cpp) and
// falls back to the DOM walk for anything else. Both must build the same Rules, and a file the
// stream gives up on must still load when it is valid.
#include <catch2/catch.hpp>

#include "rapport/directory.hpp"
#include "rapport/rules.hpp"
#include "test_process.hpp"

using namespace rapport;

namespace {

void check_same(const Rules& a, const Rules& b) {
    CHECK(a.organization.name == b.organization.name);
    CHECK(a.organization.domains == b.organization.domains);
    CHECK(a.public_domains == b.public_domains);
    REQUIRE(a.people.size() == b.people.size());
    for (std::size_t i = 0; i < a.people.size(); ++i) {
        CHECK(a.people[i].id == b.people[i].id);
        CHECK(a.people[i].addresses == b.people[i].addresses);
        CHECK(a.people[i].role == b.people[i].role);
    }
    REQUIRE(a.accounts.size() == b.accounts.size());
    for (std::size_t i = 0; i < a.accounts.size(); ++i) {
        const Account& x = a.accounts[i];
        const Account& y = b.accounts[i];
        INFO("account " << x.id);
        CHECK(x.id == y.id);
        CHECK(x.name == y.name);
        CHECK(x.domains == y.domains);
        CHECK(x.owner == y.owner);
        CHECK(x.team == y.team);
        CHECK(x.reference == y.reference);
        CHECK(x.stage == y.stage);
        CHECK(x.auto_cc == y.auto_cc);
        REQUIRE(x.lost.has_value() == y.lost.has_value());
        if (x.lost) {
            CHECK(x.lost->on == y.lost->on);
            CHECK(x.lost->competitor == y.lost->competitor);
            CHECK(x.lost->delivery == y.lost->delivery);
        }
        REQUIRE(x.contacts.size() == y.contacts.size());
        for (std::size_t k = 0; k < x.contacts.size(); ++k) {
            CHECK(x.contacts[k].address == y.contacts[k].address);
            CHECK(x.contacts[k].name == y.contacts[k].name);
            CHECK(x.contacts[k].champion == y.contacts[k].champion);
        }
    }
    CHECK(a.rules.loss.nudges == b.rules.loss.nudges);
    CHECK(a.rules.silence.after == b.rules.silence.after);
}

const char* const kVaried = R"json({
  "$comment": ["any", {"value": 1}],
  "rules": {"silence": {"after": "P30D"}},
  "accounts": [
    {"id": "acme", "name": "Acme", "domains": ["Acme.Example", "bücher.example"], "owner": "bob",
     "team": ["mia"], "reference": true, "auto_cc": false, "stage": "won", "$comment": {"x": [1, 2]},
     "contacts": [{"address": "JANE@ACME.EXAMPLE", "name": "Jane"}]},
    {"id": "gone", "name": "Gone \u00e9", "owner": "mia", "stage": "lost",
     "lost": {"on": "2026-01-05", "competitor": "Initech", "$comment": "why"},
     "contacts": [{"address": "x@Gone.Example", "champion": true, "$comment": null},
                  {"address": "y@gone.example", "name": ""}]}],
  "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]},
             {"id": "mia", "name": "Mia", "addresses": ["mia@vendor.example"], "role": "marketing"}],
  "organization": {"name": "Vendor", "domains": ["vendor.example"]},
  "public_domains": ["megamail.*"]
})json";

}  // namespace

TEST_CASE("the streaming pass and the DOM walk build the same rules", "[rules]") {
    const std::string example = test::read_file(test::source_dir() + "/packaging/examples/rules.json");
    for (const std::string& text : {example, std::string(kVaried)}) {
        auto fast = parse_rules(text, "rules.json");
        auto careful = detail::parse_rules_with_dom(text, "rules.json");
        INFO((careful.diagnostics.empty() ? "" : careful.diagnostics[0].to_string()));
        REQUIRE(fast.rules);
        REQUIRE(careful.rules);
        check_same(*fast.rules, *careful.rules);
    }
    auto varied = parse_rules(kVaried, "rules.json");
    REQUIRE(varied.rules);
    const Account& gone = varied.rules->accounts.at(1);
    REQUIRE(gone.lost);
    CHECK(gone.lost->competitor == "Initech");
    CHECK(gone.contacts.at(0).address == "x@gone.example");
    CHECK(varied.rules->accounts.at(0).contacts.at(0).address == "jane@acme.example");
}

TEST_CASE("contacts' strings outlive the parse and are shared by copies of the rules", "[rules]") {
    Rules copy;
    {
        auto parsed = parse_rules(kVaried, "rules.json");
        REQUIRE(parsed.rules);
        copy = *parsed.rules;
    }
    const Contact& jane = copy.accounts.at(0).contacts.at(0);
    CHECK(std::string(jane.address.c_str()) == "jane@acme.example");
    AccountDirectory dir(std::make_shared<Rules>(copy));
    auto m = dir.lookup("jane@acme.example");
    REQUIRE(m.contact);
    CHECK(m.contact->name == "Jane");
    CHECK(dir.lookup("someone@bücher.example").kind == MatchKind::domain);
}

TEST_CASE("a broken file in a large directory gets the DOM walk's messages", "[rules]") {
    std::string text = R"({"organization": {"name": "V", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]}], "accounts": [)";
    for (int a = 0; a < 2000; ++a)
        text += (a ? "," : "") + std::string(R"({"id": "a)") + std::to_string(a) + R"(", "name": "A", "owner": "bob",
            "contacts": [{"address": "p@a)" + std::to_string(a % 1999) + R"(.example"}]})";
    text += "]}";
    auto r = parse_rules(text, "rules.json");
    CHECK(r.rules == nullptr);
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].to_string() ==
          "rules.json: $.accounts[1999].contacts[0].address: address \"p@a0.example\" is already a contact of "
          "account \"a0\" ($.accounts[0].contacts[0].address)");
}
