// The corpus in tests/data/mail read end to end (vmime extraction, then the core's read_mail):
// precision and recall per class, printed, with the floors the issue sets; and the hostile
// shapes (no recipient, deep nesting, 30 MB, broken charsets, base64 that never ends).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mime/mail_body.hpp"
#include "rapport/mail_reading.hpp"

using namespace rapport;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(RAPPORT_SOURCE_DIR) / "tests/data/mail";
const std::vector<std::string> kOwn = {"mia@vendor.example"};
const std::vector<std::string> kPhrases = {"decided to go with", "für einen anderen Anbieter entschieden"};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string crlf(const std::string& lf) {
    std::string out;
    out.reserve(lf.size() + lf.size() / 20);
    for (char c : lf) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// The class the verdict gives, in the corpus's terms.
std::string class_of(const MailVerdict& v) {
    switch (v.kind) {
        case MailKind::bounce:
            for (const auto& r : v.recipients)
                if (r.permanent) return "bounce";
            return "bounce_soft";
        case MailKind::auto_reply: return v.departure ? "departure" : v.out_of_office ? "out_of_office" : "other";
        case MailKind::receipt: return "other";
        case MailKind::none: return "customer";
    }
    return "other";
}

struct Outcome {
    std::string expected, got;
};

}  // namespace

TEST_CASE("the corpus: precision and recall per class", "[mail_reading][corpus]") {
    const auto expected = nlohmann::json::parse(slurp(kCorpus / "expected.json"));
    REQUIRE(expected.size() >= 60);
    std::map<std::string, Outcome> outcomes;
    std::size_t bounces = 0, replies = 0;
    for (const auto& [file, want] : expected.items()) {
        INFO(file);
        const std::string raw = slurp(kCorpus / file);
        REQUIRE(!raw.empty());
        // IMAP hands out CRLF; the files are LF for readability. Both must read the same.
        const MailBody body = mime::read_mail_body(crlf(raw));
        const MailBody body_lf = mime::read_mail_body(raw);
        CHECK(body.text.size() > 0);
        const MailVerdict v = read_mail(body, kOwn);
        const MailVerdict v_lf = read_mail(body_lf, kOwn);
        const std::string cls = want.at("cls");
        const std::string loss = v.kind == MailKind::none ? find_loss_phrase(body.text, kPhrases) : "";
        const std::string got = class_of(v);
        CHECK(class_of(v_lf) == got);
        outcomes[file] = {cls, got};
        if (cls.rfind("bounce", 0) == 0) ++bounces;
        if (cls == "departure" || cls == "out_of_office" || cls == "other") ++replies;
        if (cls == "bounce" && got == "bounce") {
            std::set<std::string> want_gone, gone;
            for (const auto& a : want.at("permanent")) want_gone.insert(a.get<std::string>());
            for (const auto& r : v.recipients)
                if (r.permanent) gone.insert(r.address);
            CHECK(gone == want_gone);
            if (want.contains("original_message_id")) CHECK(v.original_message_id == want.at("original_message_id"));
        }
        if (cls == "departure" && got == "departure" && want.contains("replacement"))
            CHECK(v.replacement == want.at("replacement"));
        if (cls == "customer") CHECK(fold_for_matching(loss) == fold_for_matching(want.value("loss_phrase", std::string())));
    }
    CHECK(bounces >= 40);
    CHECK(replies >= 20);

    std::printf("%-14s %9s %6s %9s %6s\n", "class", "precision", "", "recall", "");
    std::set<std::string> classes;
    for (const auto& [f, o] : outcomes) classes.insert(o.expected);
    std::map<std::string, std::pair<double, double>> scores;
    for (const auto& c : classes) {
        std::size_t tp = 0, fp = 0, fn = 0;
        for (const auto& [f, o] : outcomes) {
            if (o.got == c && o.expected == c) ++tp;
            else if (o.got == c) ++fp;
            else if (o.expected == c) ++fn;
        }
        const double precision = tp + fp == 0 ? 1.0 : double(tp) / double(tp + fp);
        const double recall = tp + fn == 0 ? 1.0 : double(tp) / double(tp + fn);
        scores[c] = {precision, recall};
        std::printf("%-14s %9.3f (%zu/%zu) %6.3f (%zu/%zu)\n", c.c_str(), precision, tp, tp + fp, recall, tp, tp + fn);
    }
    for (const auto& [f, o] : outcomes)
        if (o.expected != o.got) std::printf("  miss: %s expected %s, got %s\n", f.c_str(), o.expected.c_str(), o.got.c_str());
    for (const char* c : {"bounce", "departure"}) {
        INFO(c);
        CHECK(scores[c].first >= 0.95);
        CHECK(scores[c].second >= 0.85);
    }
    for (const auto& [f, o] : outcomes) {
        INFO(f);
        if (o.expected == "out_of_office") CHECK(o.got != "departure");
    }
}

TEST_CASE("loss phrases: case, white space, quotes, word boundaries", "[mail_reading]") {
    const std::vector<std::string> phrases = {"decided to go with"};
    CHECK(find_loss_phrase("We have DECIDED\n  to\u00a0go   with Globex.", phrases) == "decided to go with");
    CHECK(find_loss_phrase("Hi\n\nOn Mon, Nov 30, 2026 Mia wrote:\n> we decided to go with x", phrases).empty());
    CHECK(find_loss_phrase("Fine.\n> decided to go with", phrases).empty());
    CHECK(find_loss_phrase("undecided to go without", phrases).empty());
    CHECK(find_loss_phrase("Ok\nFrom: Mia\nSent: Monday\nwe decided to go with", phrases).empty());
    CHECK(find_loss_phrase("anything", {}).empty());
    CHECK(find_loss_phrase("anything", {"  "}).empty());
}

namespace {

std::string dsn_nested(int depth) {
    std::string head = "From: MAILER-DAEMON@mail.vendor.example\r\nTo: mia@vendor.example\r\n"
                       "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n";
    std::string open, close;
    for (int i = 0; i < depth; ++i) {
        open += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" + std::to_string(i) + "\r\n";
        close = "\r\n--b" + std::to_string(i) + "--\r\n" + close;
    }
    const std::string report =
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
        "--r\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; jane@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r--\r\n";
    return head + open + report + close;
}

}  // namespace

TEST_CASE("bad input: a verdict or a skip with a reason, bounded", "[mail_reading][limits]") {
    const auto started = std::chrono::steady_clock::now();
    SECTION("a report ten multiparts deep is still read") {
        const MailBody body = mime::read_mail_body(dsn_nested(10));
        CHECK(body.skipped.empty());
        REQUIRE(body.delivery_status.size() == 1);
        const MailVerdict v = read_mail(body, kOwn);
        REQUIRE(v.recipients.size() == 1);
        CHECK(v.recipients[0].permanent);
    }
    SECTION("a thousand multiparts deep is skipped with a reason before vmime sees it") {
        const MailBody body = mime::read_mail_body(dsn_nested(1000));
        CHECK(body.skipped.find("multipart") != std::string::npos);
        const MailVerdict v = read_mail(body, kOwn);
        CHECK(v.kind == MailKind::none);
        CHECK(v.why.find("skipped") != std::string::npos);
    }
    SECTION("deeper than max_depth: the deep parts are ignored, the message is truncated") {
        mime::BodyLimits limits;
        limits.max_depth = 4;
        const MailBody body = mime::read_mail_body(dsn_nested(10), limits);
        CHECK(body.truncated);
        CHECK(body.delivery_status.empty());
    }
    SECTION("a DSN naming no recipient marks nobody") {
        const std::string raw =
            "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\n--r--\r\n";
        const MailVerdict v = read_mail(mime::read_mail_body(raw), kOwn);
        CHECK(v.kind == MailKind::bounce);
        CHECK(v.recipients.empty());
    }
    SECTION("a 30 MB auto-reply is cut at the input limit") {
        std::string raw = "From: jane@acme.example\r\nAuto-Submitted: auto-replied\r\nSubject: Automatic reply\r\n"
                          "Content-Type: text/plain\r\n\r\nJane Doe is no longer with Acme.\r\n";
        raw += std::string(30u << 20, 'x');
        const MailBody body = mime::read_mail_body(raw);
        CHECK(body.truncated);
        CHECK(body.text.size() <= mime::BodyLimits{}.max_text_bytes);
        CHECK(read_mail(body, kOwn).departure);
    }
    SECTION("a base64 part that never ends, and a charset nobody knows") {
        std::string raw = "From: jane@acme.example\r\nSubject: Hi\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"
                          "--x\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nplain \xff\xfe words\r\n"
                          "--x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
        for (int i = 0; i < 20000; ++i) raw += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n";
        const MailBody body = mime::read_mail_body(raw);
        CHECK(body.skipped.empty());
        CHECK(body.text.find("plain") != std::string::npos);
        CHECK(body.text.size() <= mime::BodyLimits{}.max_text_bytes);
        CHECK(read_mail(body, kOwn).kind == MailKind::none);
    }
    SECTION("a long reason is cut at 300 bytes before a code point, never inside one") {
        // 299 ASCII bytes, then "ü" (2 bytes) across the 300th: the cut must drop all of it.
        const std::string reason = "smtp; 550 " + std::string(289, 'x') + "\xc3\xbc und mehr";
        const std::string raw =
            "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            "Final-Recipient: rfc822; jane@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "Diagnostic-Code: " + reason + "\r\n--r--\r\n";
        const MailVerdict v = read_mail(mime::read_mail_body(raw), kOwn);
        REQUIRE(v.recipients.size() == 1);
        CHECK(v.recipients[0].reason.size() <= 300);
        CHECK(v.recipients[0].reason.find('\xc3') == std::string::npos);
        CHECK(v.recipients[0].reason.rfind("xxx") == v.recipients[0].reason.size() - 3);
    }
    SECTION("not MIME at all") {
        const MailBody body = mime::read_mail_body(std::string("\0\0\0garbage", 10));
        CHECK(read_mail(body, kOwn).kind == MailKind::none);
    }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
}

TEST_CASE("HTML reduced to text", "[mail_reading]") {
    CHECK(mime::html_to_text("<p>A&nbsp;b&amp;c</p><script>x()</script><b>d</b>&#233;&#x20AC;", 1000) ==
          "\nA\u00a0b&c\nd\u00e9\u20ac");
    CHECK(mime::html_to_text("yes<blockquote>no</blockquote>", 1000) == "yes\n> no");
    CHECK(mime::html_to_text("<style>never closed", 1000).empty());
    CHECK(mime::html_to_text(std::string(5000, 'a'), 100).size() == 100);
}
