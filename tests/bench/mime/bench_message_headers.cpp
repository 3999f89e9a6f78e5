// Parses N generated, realistic header blocks (the HEADER.FIELDS set Rapport fetches) with
// rapport_mime_headers, and the same blocks with vmime (parse + reading the same values out) as
// the baseline measured in the same run. Prints headers/s, ns/header (per CPU second of this
// thread) and the ratio.
//   mime_headers_bench [N=20000] [--ours-only]   (--ours-only: for profiling)
#include <vmime/vmime.hpp>

#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "mime/message_headers.hpp"

namespace {

// Thread CPU time, not wall time: the bench must give stable ratios on a shared machine.
struct Clock {
    using time_point = double;
    static double now() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
    }
};

const char* const kFirst[] = {"Jane", "Bob", "Mia", "Jürgen", "François", "Renée", "Akira",
                              "Olga", "Pat", "Chris"};
const char* const kLast[] = {"Doe", "Rep", "Marketing", "Müller", "Lefèvre", "O'Brien",
                             "Yamada", "Ivanova", "Smith", "Nguyen"};
const char* const kDomains[] = {"acme.example", "vendor.example", "mail.gmail.com",
                                "outlook.com", "lists.vendor.example", "example.co.jp"};
const char* const kSubjects[] = {"Quarterly review", "Re: Renewal of the 2023 contract",
                                 "AW: Angebot für Zürich", "Meeting notes — Tuesday",
                                 "Fwd: Invoice #4711", "Lunch?", "Re: Re: pricing question"};

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += t[v >> 18]; out += t[(v >> 12) & 63]; out += t[(v >> 6) & 63]; out += t[v & 63];
    }
    if (i + 1 == in.size()) {
        const unsigned v = (unsigned char)in[i] << 16;
        out += t[v >> 18]; out += t[(v >> 12) & 63]; out += "==";
    } else if (i + 2 == in.size()) {
        const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += t[v >> 18]; out += t[(v >> 12) & 63]; out += t[(v >> 6) & 63]; out += '=';
    }
    return out;
}

std::string q_encode(const std::string& in) {
    std::string out;
    char buf[4];
    for (unsigned char c : in) {
        if (c == ' ') out += '_';
        else if (c < 0x80 && std::isalnum(c)) out += static_cast<char>(c);
        else { std::snprintf(buf, sizeof buf, "=%02X", c); out += buf; }
    }
    return out;
}

bool ascii(const std::string& s) {
    for (unsigned char c : s) if (c >= 0x80) return false;
    return true;
}

class Generator {
public:
    std::string block(int i) {
        std::string h;
        h += "From: " + mailbox() + "\r\n";
        h += "To: ";
        const int to = 1 + static_cast<int>(rng_() % 4);
        for (int k = 0; k < to; ++k) h += (k ? ",\r\n " : "") + mailbox();
        h += "\r\n";
        if (rng_() % 2) {
            h += "Cc: ";
            const int cc = 1 + static_cast<int>(rng_() % 3);
            for (int k = 0; k < cc; ++k) h += (k ? ", " : "") + mailbox();
            h += "\r\n";
        }
        static const char* days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        static const char* zones[] = {"+0000", "+0100", "-0800", "+0900", "-0500 (EST)", "+0200 (CEST)"};
        char date[96];
        std::snprintf(date, sizeof date, "Date: %s, %u %s %u %02u:%02u:%02u %s\r\n",
                      days[rng_() % 7], 1 + static_cast<unsigned>(rng_() % 28), months[rng_() % 12],
                      2015 + static_cast<unsigned>(rng_() % 10), static_cast<unsigned>(rng_() % 24),
                      static_cast<unsigned>(rng_() % 60), static_cast<unsigned>(rng_() % 60),
                      zones[rng_() % 6]);
        h += date;
        const std::string subject = kSubjects[rng_() % 7];
        h += "Subject: " + text(subject) + "\r\n";
        h += "Message-ID: <" + std::to_string(i) + "." + std::to_string(rng_() % 1000000) + "@" +
             kDomains[rng_() % 6] + ">\r\n";
        if (rng_() % 2) {
            const std::string parent = "<p" + std::to_string(i - 1) + "@" + kDomains[rng_() % 6] + ">";
            h += "In-Reply-To: " + parent + "\r\n";
            h += "References: <root" + std::to_string(i / 10) + "@acme.example>\r\n " + parent + "\r\n";
        }
        if (rng_() % 20 == 0) h += "Auto-Submitted: auto-replied\r\n";
        h += rng_() % 3 ? "Content-Type: multipart/alternative;\r\n\tboundary=\"b1_" +
                              std::to_string(i) + "\"\r\n"
                        : "Content-Type: text/plain; charset=utf-8\r\n";
        h += "\r\n";
        return h;
    }

private:
    std::string text(const std::string& s) {
        if (ascii(s) && rng_() % 3) return s;
        switch (rng_() % 3) {
            case 0: return "=?UTF-8?B?" + base64(s) + "?=";
            case 1: return "=?utf-8?Q?" + q_encode(s) + "?=";
            default: return ascii(s) ? s : "=?UTF-8?B?" + base64(s) + "?=";
        }
    }
    std::string mailbox() {
        const std::string first = kFirst[rng_() % 10], last = kLast[rng_() % 10];
        std::string local = first + "." + last;
        for (char& c : local) if ((unsigned char)c >= 0x80 || c == '\'') c = 'x';
        const std::string addr = local + "@" + kDomains[rng_() % 6];
        switch (rng_() % 4) {
            case 0: return addr;
            case 1: return "\"" + last + ", " + first + "\" <" + addr + ">";
            default: return text(first + " " + last) + " <" + addr + ">";
        }
    }
    std::mt19937_64 rng_{42};
};

double seconds_since(Clock::time_point t) { return Clock::now() - t; }

size_t parse_ours(const std::vector<std::string>& blocks) {
    size_t sink = 0;
    for (const auto& b : blocks) {
        const auto h = rapport::mime::parse_message_headers(b);
        sink += h.from.size() + h.to.size() + h.cc.size() + h.subject.size() + h.references.size() +
                (h.date ? 1 : 0) + h.warnings.size();
    }
    return sink;
}

size_t parse_vmime(const std::vector<std::string>& blocks, bool extract) {
    size_t sink = 0;
    const vmime::charset utf8(vmime::charsets::UTF_8);
    for (const auto& b : blocks) {
        vmime::header h;
        h.parse(b);
        sink += h.getFieldCount();
        if (!extract) continue;
        if (auto from = h.findFieldValue<vmime::mailbox>(vmime::fields::FROM))
            sink += from->getName().getConvertedText(utf8).size() + from->getEmail().toString().size();
        for (const char* name : {vmime::fields::TO, vmime::fields::CC}) {
            if (auto list = h.findFieldValue<vmime::addressList>(name)) {
                auto boxes = list->toMailboxList();
                for (size_t k = 0; k < boxes->getMailboxCount(); ++k) {
                    auto mb = boxes->getMailboxAt(k);
                    sink += mb->getName().getConvertedText(utf8).size() +
                            mb->getEmail().toString().size();
                }
            }
        }
        if (auto subject = h.findFieldValue<vmime::text>(vmime::fields::SUBJECT))
            sink += subject->getConvertedText(utf8).size();
        if (auto date = h.findFieldValue<vmime::datetime>(vmime::fields::DATE))
            sink += static_cast<size_t>(date->getYear());
        if (auto id = h.findFieldValue<vmime::messageId>(vmime::fields::MESSAGE_ID))
            sink += id->getId().size();
        if (auto refs = h.findFieldValue<vmime::messageIdSequence>(vmime::fields::REFERENCES))
            sink += refs->getMessageIdCount();
    }
    return sink;
}

void report(const char* what, size_t n, double secs) {
    std::printf("%-34s %10.0f headers/s %10.0f ns/header\n", what, n / secs, secs * 1e9 / n);
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
    if (n <= 0) {
        std::fprintf(stderr, "usage: %s [N>0]\n", argv[0]);
        return 2;
    }
    Generator gen;
    std::vector<std::string> blocks;
    size_t bytes = 0;
    for (int i = 0; i < n; ++i) {
        blocks.push_back(gen.block(i));
        bytes += blocks.back().size();
    }
    std::printf("%d header blocks, %.0f bytes on average\n", n, double(bytes) / n);

    size_t sink = parse_ours(blocks);  // warm-up (iconv descriptors, caches)
    int rounds = 0;
    const auto t0 = Clock::now();
    do {
        sink += parse_ours(blocks);
        ++rounds;
    } while (seconds_since(t0) < 1.0);
    const double ours = seconds_since(t0) / rounds;
    if (argc > 2 && std::string(argv[2]) == "--ours-only") {
        report("rapport_mime_headers", n, ours);
        return sink == 0;
    }

    const auto t1 = Clock::now();
    sink += parse_vmime(blocks, false);
    const double vm_parse = seconds_since(t1);
    const auto t2 = Clock::now();
    sink += parse_vmime(blocks, true);
    const double vm_full = seconds_since(t2);

    report("rapport_mime_headers", n, ours);
    report("vmime header::parse", n, vm_parse);
    report("vmime parse + read the same fields", n, vm_full);
    std::printf("ratio (vmime parse+read / ours): %.0fx\n", vm_full / ours);
    std::printf("ratio (vmime parse only / ours): %.0fx\n", vm_parse / ours);
    std::printf("(sink %zu)\n", sink);
    return 0;
}
