#include <catch2/catch.hpp>

#include "rapport/message.hpp"

using namespace rapport;

namespace {

std::shared_ptr<const AccountDirectory> directory() {
    auto r = parse_rules(R"json({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
                 {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
      "accounts": [
        {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
         "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]},
        {"id": "initech", "name": "Initech", "domains": ["initech.example"], "owner": "bob", "stage": "lost",
         "lost": {"competitor": "Hooli"}}]
    })json", "rules.json");
    REQUIRE(r.rules);
    return std::make_shared<AccountDirectory>(r.rules);
}

MessageSummary mail(std::string from, std::vector<std::string> to, std::vector<std::string> cc = {}) {
    MessageSummary m;
    m.from = {{"", from}};
    for (auto& a : to) m.to.push_back({"", a});
    for (auto& a : cc) m.cc.push_back({"", a});
    m.subject = "Renewal";
    m.message_id = "m1@x";
    return m;
}

}  // namespace

TEST_CASE("inbound customer mail names the account and the contact", "[classify]") {
    auto dir = directory();
    auto m = mail("Jane Doe <jane@acme.example>", {"mia@vendor.example"}, {"carl@acme.example"});
    m.from[0] = {"Jane Doe", "Jane@Acme.example"};
    auto c = classify_message(m, *dir, "mia@vendor.example", FolderRole::inbox);
    CHECK(c.direction == "in");
    REQUIRE(c.accounts.size() == 1);
    CHECK(c.accounts[0].account->id == "acme");
    CHECK(c.accounts[0].contacts == std::vector<std::string>{"jane@acme.example"});
    CHECK(c.accounts[0].others == std::vector<std::string>{"carl@acme.example"});
    CHECK(c.internal == std::vector<std::string>{"mia@vendor.example"});
    auto n = message_notifications(m, c, *dir, "work", "INBOX", FolderRole::inbox);
    REQUIRE(n.size() == 1);
    CHECK(n[0].kind == "customer_mail");
    CHECK(n[0].text == "Mail from Acme Corp: \"Renewal\" from Jane Doe <Jane@Acme.example>.");
    CHECK(n[0].extra["direction"] == "in");
}

TEST_CASE("the Sent audit catches mail that left without the owner", "[classify]") {
    auto dir = directory();
    auto m = mail("mia@vendor.example", {"jane@acme.example"});
    auto c = classify_message(m, *dir, "mia@vendor.example", FolderRole::sent);
    CHECK(c.direction == "out");
    auto n = message_notifications(m, c, *dir, "work", "Sent", FolderRole::sent);
    REQUIRE(n.size() == 2);
    CHECK(n[1].kind == "owner_not_copied");
    CHECK(n[1].extra["owner"] == "bob@vendor.example");
    CHECK(n[1].text == "\"Renewal\" went to Acme Corp without Bob Rep, who owns the account. Forward it to bob@vendor.example?");

    auto copied = mail("mia@vendor.example", {"jane@acme.example"}, {"bob@vendor.example"});
    auto c2 = classify_message(copied, *dir, "mia@vendor.example", FolderRole::sent);
    CHECK(message_notifications(copied, c2, *dir, "work", "Sent", FolderRole::sent).size() == 1);
}

TEST_CASE("a lost account writing in is pointed out, auto-replies are not", "[classify]") {
    auto dir = directory();
    auto m = mail("bill@initech.example", {"bob@vendor.example"});
    auto c = classify_message(m, *dir, "bob@vendor.example", FolderRole::inbox);
    auto n = message_notifications(m, c, *dir, "work", "INBOX", FolderRole::inbox);
    REQUIRE(n.size() == 2);
    CHECK(n[1].kind == "lost_account_wrote");
    CHECK(n[1].text == "Initech (lost to Hooli) wrote: \"Renewal\" from bill@initech.example. A chance to win them back?");
    m.auto_submitted = "auto-replied";
    auto c2 = classify_message(m, *dir, "bob@vendor.example", FolderRole::inbox);
    CHECK(c2.automated);
    CHECK(message_notifications(m, c2, *dir, "work", "INBOX", FolderRole::inbox).size() == 1);
}

TEST_CASE("mail with no customer on it earns nothing", "[classify]") {
    auto dir = directory();
    auto m = mail("newsletter@shop.example", {"mia@vendor.example"});
    auto c = classify_message(m, *dir, "mia@vendor.example", FolderRole::inbox);
    CHECK(c.accounts.empty());
    CHECK(message_notifications(m, c, *dir, "work", "INBOX", FolderRole::inbox).empty());
}
