// The one change the listener makes: owners appended to Cc, every other byte unchanged. Each
// case checks that removing the inserted bytes gives back the input exactly.
#include <catch2/catch.hpp>

#include "mime/message_headers.hpp"
#include "rapport/rules.hpp"
#include "smtp/cc_insertion.hpp"
#include "smtp/submission_plan.hpp"

using namespace rapport;
using namespace rapport::smtp;

namespace {

std::string without_insertion(const CcInsertion& r) {
    std::string s = r.message;
    s.erase(r.offset, r.length);
    return s;
}

const std::vector<CcAddition> kBob{{"Bob Rep", "bob@vendor.example"}};

}  // namespace

TEST_CASE("cc: appended to an existing Cc, folded", "[smtp][cc]") {
    const std::string in = "From: mia@vendor.example\r\nTo: jane@acme.example\r\nCc: Raj <raj@acme.example>,\r\n  x@acme.example\r\nSubject: s\r\n\r\nbody\r\n";
    const auto r = insert_cc(in, kBob);
    CHECK(r.message ==
          "From: mia@vendor.example\r\nTo: jane@acme.example\r\nCc: Raj <raj@acme.example>,\r\n  x@acme.example,\r\n Bob Rep <bob@vendor.example>\r\nSubject: s\r\n\r\nbody\r\n");
    CHECK(without_insertion(r) == in);
    CHECK(r.added == std::vector<std::string>{"bob@vendor.example"});
}

TEST_CASE("cc: a new Cc after the last header line; CC in any case; empty Cc; last-line Cc", "[smtp][cc]") {
    const std::string in = "From: mia@vendor.example\r\nTo: jane@acme.example\r\n\r\nbody\r\n.\r\n";
    auto r = insert_cc(in, {{"Bob Rep", "bob@vendor.example"}, {"Zoë Ö", "zoe@vendor.example"}});
    CHECK(r.message ==
          "From: mia@vendor.example\r\nTo: jane@acme.example\r\nCc: Bob Rep <bob@vendor.example>,\r\n =?UTF-8?B?Wm/DqyDDlg==?= <zoe@vendor.example>\r\n\r\nbody\r\n.\r\n");
    CHECK(without_insertion(r) == in);

    const std::string upper = "To: a@acme.example\r\nCC : \r\nX: y\r\n\r\n";
    r = insert_cc(upper, kBob);
    CHECK(r.message == "To: a@acme.example\r\nCC : Bob Rep <bob@vendor.example>\r\nX: y\r\n\r\n");
    CHECK(without_insertion(r) == upper);

    const std::string last = "To: a@acme.example\r\ncc: x@acme.example\r\n\r\nb\r\n";
    r = insert_cc(last, kBob);
    CHECK(r.message == "To: a@acme.example\r\ncc: x@acme.example,\r\n Bob Rep <bob@vendor.example>\r\n\r\nb\r\n");

    const std::string header_only = "To: a@acme.example\r\n";
    r = insert_cc(header_only, kBob);
    CHECK(r.message == "To: a@acme.example\r\nCc: Bob Rep <bob@vendor.example>\r\n");

    // A body line that looks like a header is not a header.
    const std::string body_cc = "To: a@acme.example\r\n\r\nCc: fake@x.example\r\n";
    r = insert_cc(body_cc, kBob);
    CHECK(r.message == "To: a@acme.example\r\nCc: Bob Rep <bob@vendor.example>\r\n\r\nCc: fake@x.example\r\n");
}

TEST_CASE("cc: names quoted or encoded, unsafe addresses never written", "[smtp][cc]") {
    CHECK(format_mailbox("Bob Rep", "bob@vendor.example") == "Bob Rep <bob@vendor.example>");
    CHECK(format_mailbox("Rep, Bob", "bob@vendor.example") == "\"Rep, Bob\" <bob@vendor.example>");
    CHECK(format_mailbox("Bob \"B\" Rep", "bob@vendor.example") == "\"Bob \\\"B\\\" Rep\" <bob@vendor.example>");
    CHECK(format_mailbox("Bob\r\nBcc: x@y", "bob@vendor.example") == "\"Bob Bcc: x@y\" <bob@vendor.example>");
    CHECK(format_mailbox("", "bob@vendor.example") == "bob@vendor.example");
    CHECK_FALSE(format_mailbox("Bob", "bob@vendor.example\r\nBcc: x@y"));
    CHECK_FALSE(format_mailbox("Bob", "bob"));
    const auto r = insert_cc("To: a@b.example\r\n\r\n", {{"X", "x@y\r\nBcc: evil@z"}});
    CHECK(r.message == "To: a@b.example\r\n\r\n");
    CHECK(r.added.empty());
}

namespace {

std::shared_ptr<const AccountDirectory> directory() {
    auto r = parse_rules(R"json({
      "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example", "robert@vendor.example"], "role": "rep"},
                 {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"}],
      "accounts": [
        {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob",
         "contacts": [{"address": "jane@acme.example", "name": "Jane Doe"}]}]
    })json", "rules.json");
    REQUIRE(r.rules);
    return std::make_shared<AccountDirectory>(r.rules);
}

}  // namespace

TEST_CASE("plan: owner added to header and envelope; already copied (also blind) changes nothing", "[smtp][plan]") {
    const auto dir = directory();
    Envelope env;
    env.mail_from = "mia@vendor.example";
    env.recipients = {"jane@acme.example"};
    const std::string msg = "From: Mia <mia@vendor.example>\r\nTo: Jane <jane@acme.example>\r\nSubject: Hi\r\nMessage-ID: <m1@vendor.example>\r\n\r\nbody\r\n";
    auto plan = plan_submission(msg, env, *dir);
    REQUIRE(plan.added.size() == 1);
    CHECK(plan.added[0].address == "bob@vendor.example");
    CHECK(plan.recipients == std::vector<std::string>{"jane@acme.example", "bob@vendor.example"});
    CHECK(plan.message_id == "m1@vendor.example");
    CHECK(plan.header_extended);
    const auto h = mime::parse_message_headers(plan.message.substr(0, header_block_end(plan.message)));
    REQUIRE(h.cc.size() == 1);
    CHECK(h.cc[0].address == "bob@vendor.example");

    // Owner in the envelope only, under the second address: a blind copy counts.
    env.recipients = {"jane@acme.example", "robert@vendor.example"};
    plan = plan_submission(msg, env, *dir);
    CHECK(plan.added.empty());
    CHECK(plan.message == msg);
    CHECK(plan.recipients == env.recipients);

    // Owner as sender: nothing.
    env.recipients = {"jane@acme.example"};
    const std::string from_bob = "From: bob@vendor.example\r\nTo: jane@acme.example\r\n\r\n";
    plan = plan_submission(from_bob, env, *dir);
    CHECK(plan.added.empty());
    CHECK(plan.message == from_bob);

    // A Cc that ends inside an open quote cannot take a comma: envelope only, bytes unchanged.
    const std::string broken = "From: mia@vendor.example\r\nTo: jane@acme.example\r\nCc: \"open\r\n\r\n";
    plan = plan_submission(broken, env, *dir);
    CHECK(plan.message == broken);
    CHECK_FALSE(plan.header_extended);
    CHECK(plan.recipients.back() == "bob@vendor.example");
}

TEST_CASE("plan: group syntax, a Bcc header, IDN and display-name forms reach compose.check", "[smtp][plan]") {
    const auto dir = directory();
    Envelope env;
    env.mail_from = "mia@vendor.example";
    env.recipients = {"jane@acme.example", "raj@acme.example"};
    const std::string group = "From: \"Marketing, Mia\" <MIA@vendor.example>\r\nTo: Customers: Jane <jane@acme.example>, raj@acme.example;\r\n\r\nx\r\n";
    auto plan = plan_submission(group, env, *dir);
    REQUIRE(plan.added.size() == 1);
    CHECK(plan.message == "From: \"Marketing, Mia\" <MIA@vendor.example>\r\nTo: Customers: Jane <jane@acme.example>, raj@acme.example;\r\nCc: Bob Rep <bob@vendor.example>\r\n\r\nx\r\n");

    // The client kept a Bcc header naming the owner's second address: already copied.
    const std::string bcc = "From: mia@vendor.example\r\nTo: jane@acme.example\r\nBcc: =?UTF-8?Q?Robert?= <Robert@VENDOR.example>\r\n\r\nx\r\n";
    env.recipients = {"jane@acme.example", "robert@vendor.example"};
    plan = plan_submission(bcc, env, *dir);
    CHECK(plan.added.empty());
    CHECK(plan.message == bcc);

    // An empty group in Cc ("undisclosed-recipients:;") is extended after the group.
    const std::string undisclosed = "From: mia@vendor.example\r\nTo: jane@acme.example\r\nCc: undisclosed-recipients:;\r\n\r\nx\r\n";
    env.recipients = {"jane@acme.example"};
    plan = plan_submission(undisclosed, env, *dir);
    CHECK(plan.header_extended);
    CHECK(plan.message == "From: mia@vendor.example\r\nTo: jane@acme.example\r\nCc: undisclosed-recipients:;,\r\n Bob Rep <bob@vendor.example>\r\n\r\nx\r\n");
}
