// FYI drafts as plain values: the handoff to a new owner and the note to an owner who was not
// copied. Texts from mail are untrusted: line breaks, control characters and sizes are handled.
#include <catch2/catch.hpp>

#include "rapport/fyi_draft.hpp"

using namespace rapport;

TEST_CASE("a handoff lists the people, follow-ups, meetings and recent mail", "[fyi]") {
    HandoffContext c;
    c.account_name = "Acme Corp";
    c.stage = "lost";
    c.lost_note = "went with Hooli on 2026-11-01";
    c.user = {"Bob Rep", "bob@vendor.example"};
    c.new_owner = {"Alice Rep", "alice@vendor.example"};
    c.contacts = {{"Jane Doe", "jane@acme.example", true, "", "2026-11-20", "2026-11-22"},
                  {"Carl Poe", "carl@acme.example", false, "", "", ""}};
    c.nudges = {{"due 2026-12-16", "Acme Corp went with Hooli 45 days ago — ask Jane Doe how the roll-out is going."}};
    c.meetings = {{"2026-12-03 10:00 (UTC)", "Quarterly review"}};
    c.recent = {{"2026-11-22", false, "Jane Doe", "Re: Renewal"}, {"2026-11-20", true, "Jane Doe", "Renewal"}};
    const ComposedDraft d = compose_handoff(c);
    CHECK(d.subject == "Handover: Acme Corp");
    REQUIRE(d.to.size() == 1);
    CHECK(d.to[0].address == "alice@vendor.example");
    CHECK(d.body ==
          "Hi Alice,\n\nAcme Corp is yours now. Here is what I know, so that nothing falls between us.\n"
          "\nStage: lost (went with Hooli on 2026-11-01)\n"
          "\nPeople there:\n"
          "- Jane Doe <jane@acme.example>, champion; last wrote 2026-11-20; last written to 2026-11-22\n"
          "- Carl Poe <carl@acme.example>; no mail seen\n"
          "\nOpen follow-ups (now yours):\n"
          "- due 2026-12-16: Acme Corp went with Hooli 45 days ago — ask Jane Doe how the roll-out is going.\n"
          "\nUpcoming meetings:\n"
          "- 2026-12-03 10:00 (UTC): Quarterly review\n"
          "\nRecent mail:\n"
          "- 2026-11-22 to Jane Doe: Re: Renewal\n"
          "- 2026-11-20 from Jane Doe: Renewal\n"
          "\nBest,\nBob\n");
}

TEST_CASE("a handoff of an empty account says so, and hostile subjects stay on one line", "[fyi]") {
    HandoffContext c;
    c.account_name = "Acme\r\nBcc: evil@example.com";
    c.user = {"", "bob@vendor.example"};
    c.new_owner = {"Alice Rep", "alice@vendor.example\r\nBcc: x@example.com"};
    c.recent.assign(30, RecentSubject{"2026-11-22", true, "Jane", std::string(100000, 'x') + "\n<b>hi</b>"});
    const ComposedDraft d = compose_handoff(c);
    CHECK(d.subject.find('\n') == std::string::npos);
    CHECK(d.subject.find('\r') == std::string::npos);
    CHECK(d.to.empty());  // an address with a line break is never used
    CHECK(d.body.find("- none listed") != std::string::npos);
    CHECK(d.body.find("- and 20 more") != std::string::npos);
    CHECK(d.body.size() < 5000);
    CHECK(d.body.find('\r') == std::string::npos);
}

TEST_CASE("the not-copied note says what left and where it is", "[fyi]") {
    NotCopiedContext c;
    c.account_name = "Acme Corp";
    c.user = {"Mia Marketing", "mia@vendor.example"};
    c.owner = {"Bob Rep", "bob@vendor.example"};
    c.subject = "Case study draft";
    c.date = "2026-12-01 10:30 (UTC)";
    c.recipients = {"jane@acme.example", "carl@acme.example"};
    c.folder = "Sent";
    const ComposedDraft d = compose_not_copied(c);
    CHECK(d.subject == "FYI: Case study draft");
    REQUIRE(d.to.size() == 1);
    CHECK(d.to[0].address == "bob@vendor.example");
    CHECK(d.body == "Hi Bob,\n\nFYI, I wrote to Acme Corp without copying you:\n\n"
                    "  Subject: Case study draft\n  Date: 2026-12-01 10:30 (UTC)\n"
                    "  To: jane@acme.example, carl@acme.example\n"
                    "\nIt is in my Sent folder; tell me if you want the whole thread.\n\nBest,\nMia\n");
    c.subject.clear();
    CHECK(compose_not_copied(c).subject == "FYI: my mail to Acme Corp");
}

TEST_CASE("FYI draft ids are stable and distinct", "[fyi]") {
    CHECK(fyi_draft_id("handoff:acme:alice:1") == fyi_draft_id("handoff:acme:alice:1"));
    CHECK(fyi_draft_id("handoff:acme:alice:1") != fyi_draft_id("handoff:acme:alice:2"));
    CHECK(fyi_draft_id("x").size() == 18);
    CHECK(fyi_draft_id("x").rfind("f-", 0) == 0);
}
