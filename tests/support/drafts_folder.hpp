#pragma once
// The Drafts folder as Dovecot has it, read with doveadm (not through rapportd): what the user
// sees. Shared by the tests of summary and FYI drafts.
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dovecot_fixture.hpp"

namespace rapport::test {

struct Draft {
    std::uint32_t uid = 0;
    std::string flags, id, subject, to, cc;
};

inline std::string last_doveadm_output;  // for failure messages

// The Drafts folder as Dovecot has it, one line per message.
inline std::vector<Draft> drafts_in(DovecotFixture& dovecot, const std::string& folder = "Drafts") {
    std::string out;
    try {
        out = dovecot.doveadm({"-f", "tab", "fetch", "-u", dovecot.user(),
                               "uid flags hdr.x-rapport-draft hdr.subject hdr.to hdr.cc", "mailbox", folder, "all"});
    } catch (const std::runtime_error& e) {
        last_doveadm_output = e.what();  // e.g. the folder does not exist (yet)
        return {};
    }
    last_doveadm_output = out;
    std::vector<Draft> result;
    std::istringstream in(out);
    std::string line;
    std::getline(in, line);  // column names
    // A folded header continues on lines that start with white space: join them first.
    std::vector<std::string> rows;
    while (std::getline(in, line)) {
        if (!rows.empty() && !line.empty() && (line[0] == ' ' || line[0] == '\t')) rows.back() += line;
        else rows.push_back(line);
    }
    for (const auto& line : rows) {
        std::vector<std::string> f;
        std::size_t start = 0;
        for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
            f.push_back(line.substr(start, tab - start));
        f.push_back(line.substr(start));
        if (f.size() < 6 || f[0].empty()) continue;
        result.push_back({static_cast<std::uint32_t>(std::stoul(f[0])), f[1], f[2], f[3], f[4], f[5]});
    }
    return result;
}

inline std::map<std::string, int> count_by_id(const std::vector<Draft>& drafts) {
    std::map<std::string, int> n;
    for (const auto& d : drafts) ++n[d.id];
    return n;
}

// Waits until Drafts holds `count` messages (or the time is up) and returns them.
inline std::vector<Draft> wait_drafts(DovecotFixture& dovecot, std::size_t count, std::chrono::milliseconds timeout,
                                      const std::string& folder = "Drafts") {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto d = drafts_in(dovecot, folder);
    while (d.size() < count && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        d = drafts_in(dovecot, folder);
    }
    return d;
}

}  // namespace rapport::test
