#include "rapport/fyi_draft.hpp"

#include <cstdint>

namespace rapport {
namespace {

constexpr std::size_t kField = ComposeLimits::max_field_chars;
constexpr std::size_t kName = ComposeLimits::max_name_chars;

std::string first_name(const DraftAddress& a) {
    const std::string name = clean_line(a.name, kName);
    if (name.empty()) return clean_line(a.address, kName);
    const auto space = name.find(' ');
    return space == std::string::npos ? name : name.substr(0, space);
}

std::string person(const std::string& name, const std::string& address) {
    const std::string n = clean_line(name, kName), a = clean_line(address, kName);
    if (n.empty()) return a;
    return a.empty() ? n : n + " <" + a + ">";
}

// The recipient, or nothing when the address is unusable (the draft still helps the user).
std::vector<DraftAddress> to_of(const DraftAddress& a) {
    if (auto clean = clean_draft_address(a)) return {*clean};
    return {};
}

void section(std::string& body, const char* title, const std::vector<std::string>& lines, const char* none) {
    body += std::string("\n") + title + "\n";
    if (lines.empty()) {
        body += std::string("- ") + none + "\n";
        return;
    }
    for (std::size_t i = 0; i < lines.size() && i < ComposeLimits::max_list_items; ++i) body += "- " + lines[i] + "\n";
    if (lines.size() > ComposeLimits::max_list_items)
        body += "- and " + std::to_string(lines.size() - ComposeLimits::max_list_items) + " more\n";
}

}  // namespace

ComposedDraft compose_handoff(const HandoffContext& c) {
    ComposedDraft d;
    const std::string account = clean_line(c.account_name, kField);
    d.subject = clean_line("Handover: " + account, ComposeLimits::max_subject_chars);
    d.to = to_of(c.new_owner);

    std::string body = "Hi " + first_name(c.new_owner) + ",\n\n" + account +
                       " is yours now. Here is what I know, so that nothing falls between us.\n";
    if (!c.stage.empty()) {
        body += "\nStage: " + clean_line(c.stage, kField);
        if (!c.lost_note.empty()) body += " (" + clean_line(c.lost_note, kField) + ")";
        body += "\n";
    }
    std::vector<std::string> lines;
    for (const auto& p : c.contacts) {
        std::string line = person(p.name, p.address);
        if (p.champion) line += ", champion";
        if (!p.state.empty() && p.state != "active") line += ", " + clean_line(p.state, 20);
        if (!p.last_in.empty()) line += "; last wrote " + clean_line(p.last_in, 20);
        if (!p.last_out.empty()) line += "; last written to " + clean_line(p.last_out, 20);
        if (p.last_in.empty() && p.last_out.empty()) line += "; no mail seen";
        lines.push_back(std::move(line));
    }
    section(body, "People there:", lines, "none listed");
    lines.clear();
    for (const auto& n : c.nudges) lines.push_back(clean_line(n.when, 40) + ": " + clean_line(n.text, kField));
    section(body, "Open follow-ups (now yours):", lines, "none");
    lines.clear();
    for (const auto& m : c.meetings) lines.push_back(clean_line(m.when, 60) + ": " + clean_line(m.text, kField));
    section(body, "Upcoming meetings:", lines, "none in the calendar");
    lines.clear();
    for (const auto& r : c.recent)
        lines.push_back(clean_line(r.date, 20) + (r.inbound ? " from " : " to ") + clean_line(r.contact, kName) + ": " +
                        clean_line(r.subject, kField));
    section(body, "Recent mail:", lines, "none in the last 90 days");
    body += "\nBest,\n" + first_name(c.user) + "\n";
    d.body = std::move(body);
    return d;
}

ComposedDraft compose_not_copied(const NotCopiedContext& c) {
    ComposedDraft d;
    const std::string account = clean_line(c.account_name, kField);
    const std::string subject = clean_line(c.subject, kField);
    d.subject = clean_line("FYI: " + (subject.empty() ? "my mail to " + account : subject), ComposeLimits::max_subject_chars);
    d.to = to_of(c.owner);
    std::string body = "Hi " + first_name(c.owner) + ",\n\nFYI, I wrote to " + account + " without copying you:\n\n";
    body += "  Subject: " + (subject.empty() ? std::string("(none)") : subject) + "\n";
    if (!c.date.empty()) body += "  Date: " + clean_line(c.date, 60) + "\n";
    std::string to;
    for (std::size_t i = 0; i < c.recipients.size() && i < ComposeLimits::max_list_items; ++i)
        to += (to.empty() ? "" : ", ") + clean_line(c.recipients[i], kName);
    if (c.recipients.size() > ComposeLimits::max_list_items)
        to += " and " + std::to_string(c.recipients.size() - ComposeLimits::max_list_items) + " more";
    if (!to.empty()) body += "  To: " + to + "\n";
    body += "\nIt is in my " + clean_line(c.folder.empty() ? std::string("Sent") : c.folder, 60) +
            " folder; tell me if you want the whole thread.\n\nBest,\n" + first_name(c.user) + "\n";
    d.body = std::move(body);
    return d;
}

std::string fyi_draft_id(std::string_view key) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char ch : key) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    static const char* hex = "0123456789abcdef";
    std::string id = "f-";
    for (int shift = 60; shift >= 0; shift -= 4) id += hex[(h >> shift) & 0xf];
    return id;
}

}  // namespace rapport
