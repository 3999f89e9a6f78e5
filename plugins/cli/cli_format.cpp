#include "cli_format.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace rapport::cli {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key, const std::string& fallback = "-") {
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
    if (j[key].is_string()) return j[key].get<std::string>();
    return j[key].dump();
}

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    auto cells = [](const std::string& s) {  // display width: count UTF-8 lead bytes
        return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
    };
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = cells(header[i]);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], cells(r[i]));
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& r) {
        for (std::size_t i = 0; i < r.size(); ++i) {
            out << r[i];
            if (i + 1 < r.size()) out << std::string(width[i] - cells(r[i]) + 2, ' ');
        }
        out << "\n";
    };
    line(header);
    for (const auto& r : rows) line(r);
    return out.str();
}

std::string short_time(const std::string& iso) {
    // 2026-12-09T10:00:00Z -> 2026-12-09 10:00
    if (iso.size() >= 16 && iso[10] == 'T') return iso.substr(0, 10) + " " + iso.substr(11, 5);
    return iso;
}

}  // namespace

std::string notification_line(const json& p) {
    std::string line = "#" + str(p, "id") + " " + short_time(str(p, "time")) + " [" + str(p, "kind") + "]";
    if (p.contains("account") && p["account"].is_string()) line += " " + p["account"].get<std::string>() + ":";
    line += " " + str(p, "text", "");
    return line;
}

std::string nudges_table(const json& nudges) {
    if (!nudges.is_array() || nudges.empty()) return "No nudges.\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : nudges)
        rows.push_back({str(n, "id"), short_time(str(n, "due")), str(n, "state"), str(n, "account"), str(n, "kind"), str(n, "text")});
    return table({"ID", "DUE (UTC)", "STATE", "ACCOUNT", "KIND", "WHAT"}, rows);
}

std::string health_text(const json& h) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : h.value("contacts", json::array()))
        rows.push_back({str(c, "address"), str(c, "name", ""), c.value("champion", false) ? "yes" : "",
                        str(c, "state", "active"), short_time(str(c, "last_in", "")), short_time(str(c, "last_out", "")),
                        c.value("engaged", false) ? "yes" : ""});
    std::string out = rows.empty() ? "No contacts listed and no mail seen.\n"
                                   : table({"ADDRESS", "NAME", "CHAMPION", "STATE", "LAST IN", "LAST OUT", "ENGAGED"}, rows);
    out += "Engaged in 90 days: " + str(h, "engaged_contacts", "0") + " (champions: " + str(h, "champions_engaged", "0") + ")";
    if (h.value("single_threaded", false)) out += "; single-threaded";
    out += "\n";
    if (h.contains("silent_days") && !h["silent_days"].is_null())
        out += "Last mail " + short_time(str(h, "last_contact", "")) + " (" + str(h, "silent_days") + " days ago).\n";
    else
        out += "No mail seen with this account.\n";
    return out;
}

std::string drafts_table(const json& drafts) {
    if (!drafts.is_array() || drafts.empty()) return "No summary drafts yet.\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : drafts)
        rows.push_back({short_time(str(d, "created")), str(d, "kind", "summary"), str(d, "account"), str(d, "mailbox"),
                        str(d, "subject")});
    return table({"CREATED (UTC)", "KIND", "ACCOUNT", "MAILBOX", "SUBJECT"}, rows);
}

std::string meetings_table(const json& meetings) {
    if (!meetings.is_array() || meetings.empty()) return "No customer meetings in the calendar window.\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : meetings) {
        std::string accounts;
        for (const auto& a : m.value("accounts", json::array())) accounts += (accounts.empty() ? "" : ",") + a.get<std::string>();
        const std::string end = str(m, "end");
        rows.push_back({short_time(str(m, "start")) + "-" + (end.size() >= 16 ? end.substr(11, 5) : end), str(m, "state"),
                        accounts, str(m, "title")});
    }
    return table({"WHEN (UTC)", "STATE", "ACCOUNTS", "TITLE"}, rows);
}

std::string status_text(const json& s) {
    std::ostringstream out;
    const json rules = s.value("rules", json::object());
    out << "Rules: " << str(rules, "accounts", "?") << " accounts, " << str(rules, "contacts", "?")
        << " contacts, loaded " << short_time(str(rules, "loaded_at")) << " UTC\n";
    if (rules.contains("errors") && rules["errors"].is_array() && !rules["errors"].empty()) {
        out << "  The last reload was refused; the rules above stay in force. Fix:\n";
        for (const auto& e : rules["errors"]) out << "    " << e.get<std::string>() << "\n";
    }
    auto sources = [&](const char* key, const char* title, bool mailbox) {
        const json list = s.value(key, json::array());
        out << title << (list.empty() ? ": none configured\n" : ":\n");
        for (const auto& m : list) {
            out << "  " << str(m, "id") << "  " << str(m, "state");
            if (mailbox) {
                out << "  " << str(m, "messages_seen", "0") << " messages seen";
                if (m.contains("scan") && m["scan"].is_object()) {
                    const auto done = m["scan"].value("done", 0LL), total = m["scan"].value("total", 0LL);
                    out << "  first scan " << done << "/" << total;
                    if (total > 0) out << " (" << (done * 100 / total) << "%)";
                }
            } else {
                out << "  " << str(m, "events", "0") << " events, " << str(m, "customer_meetings", "0") << " customer meetings";
            }
            out << "  last sync " << short_time(str(m, "last_sync", "never"));
            if (m.contains("last_error") && m["last_error"].is_string()) out << "\n    error: " << m["last_error"].get<std::string>();
            if (mailbox && m.contains("drafts") && m["drafts"].is_object()) {
                const auto& d = m["drafts"];
                if (d.value("pending", 0LL) > 0) out << "\n    drafts waiting to be written: " << d.value("pending", 0LL);
                if (d.contains("last_error") && d["last_error"].is_string())
                    out << "\n    drafts: " << d["last_error"].get<std::string>();
            }
            out << "\n";
        }
    };
    sources("mailboxes", "Mailboxes", true);
    sources("calendars", "Calendars", false);
    return out.str();
}

std::string lookup_text(const json& results) {
    std::ostringstream out;
    for (const auto& r : results) {
        out << str(r, "address") << ": " << str(r, "match");
        if (r.contains("account") && r["account"].is_object()) {
            const auto& a = r["account"];
            out << " — " << str(a, "name") << " (" << str(a, "id") << ", " << str(a, "stage") << ")";
            if (a.contains("owner") && a["owner"].is_object()) out << ", owner " << str(a["owner"], "name");
            if (a.value("reference", false)) out << ", reference customer";
        }
        if (r.contains("contact") && r["contact"].is_object()) {
            out << "; contact " << str(r["contact"], "name", "(no name)");
            if (r["contact"].value("champion", false)) out << " (champion)";
        }
        if (r.contains("last_contact") && r["last_contact"].is_string()) out << "; last contact " << r["last_contact"].get<std::string>();
        out << "\n    why: " << str(r, "reason", "") << "\n";
    }
    return out.str();
}

std::string compose_text(const json& advice) {
    std::ostringstream out;
    const json add = advice.value("add_cc", json::array());
    if (add.empty()) out << "No one needs to be added.\n";
    for (const auto& c : add) out << "Add Cc: " << str(c, "name") << " <" << str(c, "address") << "> — " << str(c, "reason") << "\n";
    for (const auto& n : advice.value("notices", json::array())) out << "Note (" << str(n, "kind") << "): " << str(n, "text") << "\n";
    return out.str();
}

}  // namespace rapport::cli
