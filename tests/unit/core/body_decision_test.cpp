// What a body means (rapport/body_decision.hpp) and when decide_message asks for one: pure,
// with hand-made MailBody values (the MIME side is tested with the corpus in tests/unit/mime).
#include <catch2/catch.hpp>

#include "rapport/body_decision.hpp"
#include "rapport/compose_check.hpp"
#include "rapport/message_decision.hpp"
#include "rapport/rules.hpp"

using namespace rapport;

namespace {

std::shared_ptr<const AccountDirectory> directory(const std::string& rules_extra = "") {
    auto r = parse_rules(R"json({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]},
                 {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
      "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
         "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]}])json" +
                         rules_extra + "}",
                         "rules.json");
    REQUIRE(r.rules);
    return std::make_shared<AccountDirectory>(r.rules);
}

MailBody dsn(const std::string& recipient, const std::string& status) {
    MailBody b;
    b.from_address = "MAILER-DAEMON@mx.vendor.example";
    b.subject = "Undelivered Mail Returned to Sender";
    b.content_type = "multipart/report";
    b.report_type = "delivery-status";
    b.text = "Delivery failed.";
    b.delivery_status = {"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; " + recipient +
                         "\nAction: failed\nStatus: " + status + "\n"};
    b.returned_message_id = "q-1@vendor.example";
    return b;
}

MailBody departure() {
    MailBody b;
    b.from_address = "jane@acme.example";
    b.subject = "Automatic reply: Renewal";
    b.headers = {{"auto-submitted", "auto-replied"}};
    b.text = "Jane Doe is no longer with Acme. Please write to raj@acme.example.";
    return b;
}

BodyContext context(bool sent = true) {
    BodyContext c;
    c.own_addresses = {"mia@vendor.example"};
    c.sent_to = [sent](const std::string&, const std::string&, const std::string&) { return sent; };
    return c;
}

BodyRequestInfo request(BodyReason reason, bool history = false) { return {reason, "dsn-1@mx", history}; }

}  // namespace

TEST_CASE("a permanent bounce for a contact the user wrote to marks them bounced, once told", "[body_decision]") {
    const auto dir = directory();
    auto d = decide_body(dsn("jane@acme.example", "5.1.1"), request(BodyReason::report), *dir, context());
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].state == ContactState::bounced);
    CHECK(d.changes[0].account == "acme");
    REQUIRE(d.changes[0].notification);
    CHECK(d.changes[0].notification->kind == "contact_changed");
    CHECK(d.changes[0].notification->extra["reason"] == "bounce");
    CHECK(d.changes[0].notification->extra["contact"] == "jane@acme.example");
    CHECK(d.changes[0].notification->extra["message_id"] == "dsn-1@mx");
    // History: recorded, not announced.
    d = decide_body(dsn("jane@acme.example", "5.1.1"), request(BodyReason::report, true), *dir, context());
    REQUIRE(d.changes.size() == 1);
    CHECK_FALSE(d.changes[0].notification);
}

TEST_CASE("bounces that must mark nobody", "[body_decision]") {
    const auto dir = directory();
    CHECK(decide_body(dsn("jane@acme.example", "4.4.1"), request(BodyReason::report), *dir, context()).changes.empty());
    CHECK(decide_body(dsn("jane@acme.example", "5.2.2"), request(BodyReason::report), *dir, context()).changes.empty());
    // Never written to: somebody else's bounce, or a forged one.
    CHECK(decide_body(dsn("jane@acme.example", "5.1.1"), request(BodyReason::report), *dir, context(false)).changes.empty());
    // Not a listed contact (only the account's domain).
    CHECK(decide_body(dsn("someone@acme.example", "5.1.1"), request(BodyReason::report), *dir, context()).changes.empty());
    // The rule is off.
    const auto off = directory(R"json(, "rules": {"contact_changes": {"enabled": false}})json");
    CHECK(decide_body(dsn("jane@acme.example", "5.1.1"), request(BodyReason::report), *off, context()).changes.empty());
}

TEST_CASE("a departure auto-reply from a contact marks them left and names the replacement", "[body_decision]") {
    const auto dir = directory();
    const auto d = decide_body(departure(), request(BodyReason::report), *dir, context());
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].state == ContactState::left);
    CHECK(d.changes[0].detail == "raj@acme.example");
    REQUIRE(d.changes[0].notification);
    CHECK(d.changes[0].notification->text.find("raj@acme.example") != std::string::npos);
    MailBody ooo = departure();
    ooo.text = "I am out of the office until December 7.";
    CHECK(decide_body(ooo, request(BodyReason::report), *dir, context()).changes.empty());
}

TEST_CASE("loss phrases in customer mail: the rules' phrases, never in automata or history", "[body_decision]") {
    const auto dir = directory(R"json(, "rules": {"loss": {"phrases": ["Decided to go with"]}})json");
    MailBody b;
    b.from_address = "jane@acme.example";
    b.subject = "Re: Renewal";
    b.text = "We have decided   to go with Globex.\n\nOn Monday Mia wrote:\n> ...";
    auto d = decide_body(b, request(BodyReason::customer), *dir, context());
    REQUIRE(d.loss);
    CHECK(d.loss->kind == "loss_signal");
    CHECK(d.loss->extra["phrase"] == "decided to go with");
    CHECK(d.loss->extra["message_id"] == "dsn-1@mx");
    CHECK(d.changes.empty());
    CHECK_FALSE(decide_body(b, request(BodyReason::customer, true), *dir, context()).loss);
    b.headers = {{"auto-submitted", "auto-replied"}};
    CHECK_FALSE(decide_body(b, request(BodyReason::customer), *dir, context()).loss);
}

namespace {

MessageContext inbox(bool history = false) {
    MessageContext c;
    c.mailbox = "work";
    c.folder = "INBOX";
    c.role = FolderRole::inbox;
    c.user_address = "mia@vendor.example";
    c.history = history;
    return c;
}

MessageSummary mail(const std::string& from, const std::string& subject) {
    MessageSummary m;
    m.from = {{"", from}};
    m.to = {{"", "mia@vendor.example"}};
    m.subject = subject;
    m.message_id = "m1@x";
    return m;
}

}  // namespace

TEST_CASE("the header cues match in any case, in short and long subjects and in the sender's name", "[body_decision]") {
    const auto dir = directory();
    // By the subject alone: no Auto-Submitted, no vendor fields. A subject longer than the
    // stack buffer SubjectCues lowers into takes the other path.
    CHECK(decide_message(mail("jane@acme.example", "OUT OF OFFICE: back Monday"), *dir, inbox()).fetch_body ==
          BodyReason::report);
    CHECK(decide_message(mail("jane@acme.example", "Re: " + std::string(200, 'x') + " Out Of Office"), *dir, inbox())
              .fetch_body == BodyReason::report);
    CHECK(decide_message(mail("jane@acme.example", "Re: " + std::string(200, 'x')), *dir, inbox()).fetch_body ==
          BodyReason::customer);
    // A report by its sender: the name, or a MicrosoftExchange… local part.
    auto by_name = mail("bounces@mx.example", "Delivery Status Notification (Failure)");
    by_name.from = {{"Mail Delivery Subsystem", "bounces@mx.example"}};
    CHECK(decide_message(by_name, *dir, inbox()).fetch_body == BodyReason::report);
    CHECK(decide_message(mail("MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@vendor.example", "Undeliverable: Quote"),
                         *dir, inbox())
              .fetch_body == BodyReason::report);
    CHECK(decide_message(mail("Postmaster@vendor.example", "Hello"), *dir, inbox()).fetch_body == BodyReason::none);
}

TEST_CASE("decide_message asks for a body only for reports, contacts' auto-replies and customer mail", "[body_decision]") {
    const auto dir = directory();
    auto bounce = mail("MAILER-DAEMON@mx.vendor.example", "Undelivered Mail Returned to Sender");
    CHECK(decide_message(bounce, *dir, inbox()).fetch_body == BodyReason::report);
    CHECK(decide_message(bounce, *dir, inbox(true)).fetch_body == BodyReason::report);  // history: states only
    auto report = mail("mail@mx.example", "whatever");
    report.content_type = "multipart/report";
    report.report_type = "delivery-status";
    CHECK(decide_message(report, *dir, inbox()).fetch_body == BodyReason::report);
    report.report_type = "disposition-notification";  // a read receipt, from nobody we know
    CHECK(decide_message(report, *dir, inbox()).fetch_body == BodyReason::none);

    auto reply = mail("jane@acme.example", "Automatic reply: Renewal");
    reply.auto_response_suppress = true;
    CHECK(decide_message(reply, *dir, inbox()).fetch_body == BodyReason::report);
    auto stranger = mail("newsletter@shop.example", "Out of Office");
    stranger.auto_submitted = "auto-replied";
    CHECK(decide_message(stranger, *dir, inbox()).fetch_body == BodyReason::none);

    const auto customer = mail("jane@acme.example", "Re: Renewal");
    CHECK(decide_message(customer, *dir, inbox()).fetch_body == BodyReason::customer);
    CHECK(decide_message(customer, *dir, inbox(true)).fetch_body == BodyReason::none);
    auto seen = inbox();
    seen.already_seen = true;
    CHECK(decide_message(customer, *dir, seen).fetch_body == BodyReason::none);
    auto sent = inbox();
    sent.role = FolderRole::sent;
    CHECK(decide_message(mail("mia@vendor.example", "Quote"), *dir, sent).fetch_body == BodyReason::none);
    CHECK(decide_message(mail("friend@other.example", "Hi"), *dir, inbox()).fetch_body == BodyReason::none);

    const auto off = directory(R"json(, "rules": {"contact_changes": {"enabled": false}, "loss": {"phrases": []}})json");
    CHECK(decide_message(bounce, *off, inbox()).fetch_body == BodyReason::none);
    CHECK(decide_message(customer, *off, inbox()).fetch_body == BodyReason::none);
}

TEST_CASE("compose.check tells who left or bounced", "[body_decision][compose]") {
    const auto dir = directory();
    ContactStatus left;
    left.state = ContactState::left;
    left.detail = "raj@acme.example";
    left.changed = TimePoint{Seconds{1795000000}};
    const ContactStates states = [&](const std::string& a) -> std::optional<ContactStatus> {
        if (a == "jane@acme.example") return left;
        return std::nullopt;
    };
    const auto advice = check_compose({"mia@vendor.example", {"jane@acme.example", "x@acme.example"}, {}, {}}, *dir, states);
    int told = 0;
    for (const auto& n : advice.notices)
        if (n.kind == "left") {
            ++told;
            CHECK(n.account == "acme");
            CHECK(n.text.find("Jane Doe left Acme Corp") == 0);
            CHECK(n.text.find("raj@acme.example") != std::string::npos);
        }
    CHECK(told == 1);
    // Without states (the Sent audit, the submission listener): the same notices but that one.
    CHECK(check_compose({"mia@vendor.example", {"jane@acme.example", "x@acme.example"}, {}, {}}, *dir).notices.size() + 1 ==
          advice.notices.size());
}
