// The first scan of a folder of 20,000 messages of which 2,000 are bounces and auto-replies
// (from tests/data/mail, each with its own Message-ID): rapportd reading those bodies (rules
// as shipped) against the same scan with body reading switched off (contact_changes disabled,
// no loss phrases), each from an empty state directory, on the same warmed Dovecot.
//   bench_body_reads [MESSAGES=20000] [REPORTS=2000]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dovecot_fixture.hpp"
#include "rapportd_fixture.hpp"
#include "raw_imap_client.hpp"

using namespace rapport::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::string crlf(const std::string& lf) {
    std::string out;
    for (char c : lf) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// The corpus's reports with a fresh Message-ID each, so that no two are the same message.
std::vector<std::string> reports() {
    std::vector<std::string> out;
    const std::string dir = std::string(RAPPORT_SOURCE_DIR) + "/tests/data/mail";
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (e.path().extension() != ".eml" || name.rfind("customer-", 0) == 0) continue;
        out.push_back(crlf(read_file(e.path().string())));
    }
    return out;
}

std::string with_id(std::string msg, std::size_t n) {
    const auto at = msg.find("\r\nMessage-ID: <");
    if (at == std::string::npos) return msg;
    const auto end = msg.find('>', at);
    return msg.substr(0, at) + "\r\nMessage-ID: <bench-report-" + std::to_string(n) + "@bench.example" + msg.substr(end);
}

double scan(DovecotFixture& dovecot, std::size_t messages, bool read_bodies) {
    const std::string rules = std::string(R"({"organization": {"name": "Vendor", "domains": ["vendor.example"]},
      "people": [{"id": "bob", "name": "Bob", "addresses": ["bob@vendor.example"]},
                 {"id": "mia", "name": "Mia", "addresses": ["mia@vendor.example"]}],
      "accounts": [{"id": "acme", "name": "Acme", "domains": ["acme.example"], "owner": "bob",
                    "contacts": [{"address": "jane@acme.example"}]}])") +
                              (read_bodies ? "}"
                                           : R"(, "rules": {"contact_changes": {"enabled": false}, "loss": {"phrases": []}}})");
    json settings = {{"log_level", "warning"},
                     {"user", {{"name", "Mia"}, {"address", "mia@vendor.example"}}},
                     {"mailboxes", {{{"id", "work"},
                                     {"imap", {{"host", "127.0.0.1"}, {"port", dovecot.port()}, {"security", "none"},
                                               {"username", dovecot.user()}, {"password", dovecot.password()}}},
                                     {"folders", {{"watch", {"INBOX"}}}}}}}};
    const auto t0 = Clock::now();
    RapportdFixture d(rules, settings);
    // idle comes after the last body was read (the folder reads its bodies before it IDLEs).
    const json status = d.wait_status([&](const json& s) {
        const auto& m = s["mailboxes"][0];
        return m["state"] == "idle" && m["messages_seen"].get<std::size_t>() >= messages;
    }, 900s);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    // Proof that the bodies were read: Jane's departure auto-replies (history) marked her left.
    const json looked = d.call("lookup", {{"addresses", {"jane@acme.example"}}});
    std::printf("  %-28s %8.3f s (%zu messages seen; jane@acme.example is %s)\n",
                read_bodies ? "with body reads:" : "header fields only:", seconds,
                status["mailboxes"][0]["messages_seen"].get<std::size_t>(),
                looked["results"][0]["contact"].value("state", "?").c_str());
    return seconds;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t messages = argc > 1 ? std::stoul(argv[1]) : 20000;
    const std::size_t report_count = argc > 2 ? std::stoul(argv[2]) : 2000;
    DovecotFixture::Options o;
    o.seed = {{"INBOX", messages - report_count}};
    std::printf("seeding %zu messages (%zu bounces and auto-replies) into Dovecot...\n", messages, report_count);
    DovecotFixture dovecot(o);
    dovecot.stop();
    const auto samples = reports();
    for (std::size_t n = 0; n < report_count; ++n) dovecot.deliver_offline("INBOX", with_id(samples[n % samples.size()], n));
    dovecot.restart();
    {
        // Warm Dovecot's index and cache (bodies too), so that both runs see the same server.
        RawClient raw(dovecot.port());
        raw.command("a", "LOGIN " + dovecot.user() + " " + dovecot.password());
        raw.command("b", "EXAMINE INBOX");
        raw.command("c", "UID FETCH 1:* (UID BODY.PEEK[HEADER])");
        raw.command("d", "LOGOUT");
    }
    const double headers_only = scan(dovecot, messages, false);
    const double with_bodies = scan(dovecot, messages, true);
    const double headers_again = scan(dovecot, messages, false);
    std::printf("ratio with/without body reads: %.2f (against the faster header-only run: %.2f)\n",
                with_bodies / headers_only, with_bodies / std::min(headers_only, headers_again));
    return 0;
}
