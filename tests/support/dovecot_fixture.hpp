#pragma once
// A real Dovecot for tests: started on a free loopback port in a TempDir with its own config
// (dovecot -F -c FILE), own base_dir/state_dir/log, a passwd-file user whose uid is not 0, and
// maildirs under the temp dir. The destructor stops it (also when a test fails). Never touches
// a system Dovecot.
//
//   rapport::test::DovecotFixture dovecot;                       // plain IMAP on dovecot.port()
//   rapport::test::DovecotFixture tls({.tls = true});            // + STARTTLS on port(),
//                                                                 //   implicit TLS on tls_port(),
//                                                                 //   trusted CA in ca_file()
//   DovecotFixture::Options o; o.seed = {{"INBOX", 5000}};       // maildir files written before
//   DovecotFixture big(o);                                       // start: fastest way to fill
//   o.folders = {"Sent Items"}; o.special_use = {{"Sent Items", "\\Sent"}};  // SPECIAL-USE names
//   dovecot.append("INBOX", message);                            // doveadm save while running
//   dovecot.recreate_folder("Sent");                             // new UIDVALIDITY
//   auto flags = dovecot.flags("INBOX");                         // uid -> "\Seen \Flagged"
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "test_process.hpp"

namespace rapport::test {

// A small, valid message; n makes Subject and Message-ID unique.
inline std::string sample_message(std::size_t n, const std::string& extra_headers = "",
                                  const std::string& date = "Mon, 1 Jan 2024 10:00:00 +0000") {
    std::string id = std::to_string(n);
    return "From: Jane Doe <jane@acme.example>\r\n"
           "To: Bob Rep <bob@vendor.example>\r\n"
           "Cc: team@vendor.example\r\n"
           "Date: " + date + "\r\n"
           "Subject: Message number " + id + "\r\n"
           "Message-ID: <msg" + id + "@acme.example>\r\n"
           "References: <root@acme.example>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n" + extra_headers +
           "\r\n"
           "Body of message " + id + ".\r\nThe daemon must never fetch this line.\r\n";
}

class DovecotFixture {
public:
    struct Options {
        bool tls = false;                // self-signed CA + cert; STARTTLS and implicit TLS
        std::string user = "mia";
        std::string password = "secret";
        // Folders filled with sample_message(1..n) before start (maildir files written directly).
        std::vector<std::pair<std::string, std::size_t>> seed;
        // Their Date header (RFC 5322); empty: sample_message's, 1 Jan 2024.
        std::string seed_date;
        std::vector<std::string> folders = {"Sent", "Drafts"};  // created empty before start
        // RFC 6154 attributes the server announces in LIST: folder -> "\\Sent", "\\Drafts" …
        std::vector<std::pair<std::string, std::string>> special_use = {{"Sent", "\\Sent"}, {"Drafts", "\\Drafts"}};
        // OAuth 2.0: when set, AUTHENTICATE XOAUTH2 and OAUTHBEARER are offered and each token
        // is POSTed (token=T) to this URL — an introspection server the test runs, answering
        // {"active": true, "username": U} for a good token. Passwords still work with PLAIN
        // and LOGIN, and only with those (tokens are never tried as passwords).
        std::string oauth_introspection_url;
    };

    DovecotFixture() : DovecotFixture(Options{}) {}
    explicit DovecotFixture(Options options) : options_(std::move(options)) {
        if (!std::filesystem::exists("/usr/sbin/dovecot"))
            throw std::runtime_error("dovecot is not installed (apt-get install dovecot-imapd)");
        // Dovecot's unprivileged processes (auth worker, mail user) must traverse the temp dir.
        chmod(dir_.path().c_str(), 0755);
        choose_mail_user();
        home_ = dir_ / "home";
        std::filesystem::create_directories(home_ + "/Maildir");
        for (const auto& f : options_.folders) create_maildir(folder_path(f));
        for (const auto& [folder, count] : options_.seed) seed_maildir(folder, count);
        write_file(dir_ / "passwd", options_.user + ":{PLAIN}" + options_.password + ":" +
                                        std::to_string(uid_) + ":" + std::to_string(gid_) +
                                        "::" + home_ + "::\n");
        chmod((dir_ / "passwd").c_str(), 0644);
        if (options_.tls) make_certificates();
        if (!options_.oauth_introspection_url.empty()) {
            write_file(dir_ / "oauth2.conf", "introspection_mode = post\nintrospection_url = " +
                                                 options_.oauth_introspection_url +
                                                 "\nusername_attribute = username\nactive_attribute = active\n"
                                                 "active_value = true\n");
            chmod((dir_ / "oauth2.conf").c_str(), 0644);
        }
        chown_tree(home_);
        port_ = free_port();
        if (options_.tls) {
            do tls_port_ = free_port();
            while (tls_port_ == port_);
        }
        write_file(config_path(), config());
        start();
    }

    ~DovecotFixture() {
        resume();
        stop();
    }
    DovecotFixture(const DovecotFixture&) = delete;
    DovecotFixture& operator=(const DovecotFixture&) = delete;

    int port() const { return port_; }          // IMAP (STARTTLS offered when tls)
    int tls_port() const { return tls_port_; }  // implicit TLS, 0 without tls
    std::string ca_file() const { return options_.tls ? dir_ / "ca.pem" : std::string(); }
    const std::string& user() const { return options_.user; }
    const std::string& password() const { return options_.password; }
    std::string config_path() const { return dir_ / "dovecot.conf"; }
    std::string log() const { return read_file(dir_ / "dovecot.log") + server_->log(); }
    bool running() { return server_ && server_->running(); }
    // The server's process (its group leader), for a signal handler that must stop it; 0 when stopped.
    pid_t pid() const { return server_ ? server_->pid() : 0; }

    void stop() {
        if (server_) server_->stop();
    }
    // Kills Dovecot at once (all its processes), as a crash or network cut would.
    void kill_now() {
        if (server_) {
            kill(-server_->pid(), SIGKILL);
            server_->stop(std::chrono::milliseconds(100));
        }
    }

    // Starts Dovecot again after stop() or kill_now(), on the same ports and mail.
    void restart() {
        stop();
        start();
    }

    // Puts a message into a folder's maildir while Dovecot is down (doveadm needs the server's
    // auth service): the server finds it as new mail when it comes back.
    void deliver_offline(const std::string& folder, const std::string& message) {
        const std::string path = folder_path(folder);
        const int n = ++counter_;
        const std::string file = path + "/new/" + std::to_string(2000000000 + n) + ".M" +
                                 std::to_string(n) + "P1.offline";
        write_file(file, message);
        if (uid_ != 0) chown(file.c_str(), uid_, gid_);
    }

    // Freezes / thaws every Dovecot process: a server that stops answering without closing.
    void pause() {
        if (server_) kill(-server_->pid(), SIGSTOP);
    }
    void resume() {
        if (server_) kill(-server_->pid(), SIGCONT);
    }

    // Delivers a message into a folder of the running server (like an MTA would).
    void append(const std::string& folder, const std::string& message) {
        const std::string file = dir_ / ("msg-" + std::to_string(++counter_) + ".eml");
        write_file(file, message);
        doveadm_sh("save -u \"$1\" -m \"$2\" < \"$3\"", {options_.user, folder, file});
    }

    // Deletes and recreates a folder: its UIDVALIDITY changes and it is empty.
    void recreate_folder(const std::string& folder) {
        doveadm({"mailbox", "delete", "-u", options_.user, folder});
        doveadm({"mailbox", "create", "-u", options_.user, folder});
    }

    // uid -> flags (space separated, as doveadm prints them) for every message of a folder.
    std::map<std::uint32_t, std::string> flags(const std::string& folder) {
        const std::string out = doveadm({"-f", "tab", "fetch", "-u", options_.user, "uid flags",
                                         "mailbox", folder, "all"});
        std::map<std::uint32_t, std::string> result;
        std::istringstream in(out);
        std::string line;
        bool header = true;
        while (std::getline(in, line)) {
            if (header) {  // first line names the columns
                header = false;
                continue;
            }
            const auto tab = line.find('\t');
            if (tab == std::string::npos) continue;
            result[static_cast<std::uint32_t>(std::stoul(line.substr(0, tab)))] = line.substr(tab + 1);
        }
        return result;
    }

    // Runs doveadm against this instance; throws with its output on failure.
    std::string doveadm(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"doveadm", "-c", config_path()};
        argv.insert(argv.end(), args.begin(), args.end());
        auto [status, out] = run(argv);
        if (status != 0) throw std::runtime_error("doveadm failed (" + std::to_string(status) + "): " + out);
        return out;
    }

private:
    void doveadm_sh(const std::string& command, const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"/bin/sh", "-c",
                                         "exec doveadm -c \"$0\" " + command, config_path()};
        argv.insert(argv.end(), args.begin(), args.end());
        auto [status, out] = run(argv);
        if (status != 0) throw std::runtime_error("doveadm failed: " + out);
    }

    void choose_mail_user() {
        if (geteuid() != 0) {
            uid_ = getuid();
            gid_ = getgid();
            const passwd* self = getpwuid(uid_);
            run_as_ = self ? self->pw_name : "";
            return;
        }
        // Running as root: mail belongs to an unprivileged system user, as in production.
        const passwd* pw = getpwnam("mail");
        if (!pw) pw = getpwnam("nobody");
        if (!pw) throw std::runtime_error("no unprivileged user (mail or nobody) for Dovecot");
        uid_ = pw->pw_uid;
        gid_ = pw->pw_gid;
    }

    std::string folder_path(const std::string& folder) const {
        if (folder == "INBOX") return home_ + "/Maildir";
        return home_ + "/Maildir/." + folder;
    }

    static void create_maildir(const std::string& path) {
        for (const char* sub : {"cur", "new", "tmp"}) std::filesystem::create_directories(path + "/" + sub);
        if (path.find("/.") != std::string::npos) write_file(path + "/maildirfolder", "");
    }

    void seed_maildir(const std::string& folder, std::size_t count) {
        const std::string path = folder_path(folder);
        create_maildir(path);
        // Files in cur/ with a ":2," info suffix are messages already seen by a client; the
        // name's leading timestamp orders them, so UIDs follow n.
        for (std::size_t n = 1; n <= count; ++n) {
            const std::string msg = options_.seed_date.empty() ? sample_message(n)
                                                               : sample_message(n, "", options_.seed_date);
            char name[128];
            std::snprintf(name, sizeof name, "%zu.M%zuP1.rapport,S=%zu:2,", 1000000000 + n, n,
                          msg.size());
            const std::string file = path + "/cur/" + name;
            std::FILE* f = std::fopen(file.c_str(), "wb");
            if (!f) throw std::runtime_error("cannot write " + file);
            std::fwrite(msg.data(), 1, msg.size(), f);
            std::fclose(f);
        }
    }

    void chown_tree(const std::string& root) {
        if (geteuid() != 0) return;
        if (::chown(root.c_str(), uid_, gid_) != 0) throw std::runtime_error("chown failed");
        for (const auto& e : std::filesystem::recursive_directory_iterator(root))
            if (::lchown(e.path().c_str(), uid_, gid_) != 0) throw std::runtime_error("chown failed");
    }

    void make_certificates() {
        const std::string d = dir_.path().string();
        auto must = [](const std::vector<std::string>& argv) {
            auto [status, out] = run(argv);
            if (status != 0) throw std::runtime_error("openssl failed: " + out);
        };
        must({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
              "/CN=Rapport Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
              "keyUsage=critical,keyCertSign,cRLSign"});
        must({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", d + "/server.key", "-out", d + "/server.csr", "-subj",
              "/CN=localhost"});
        write_file(d + "/server.ext",
                   "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                   "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
        must({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
              d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2",
              "-extfile", d + "/server.ext"});
        chmod((d + "/server.key").c_str(), 0600);
    }

    std::string config() const {
        const std::string d = dir_.path().string();
        const bool oauth = !options_.oauth_introspection_url.empty();
        std::ostringstream c;
        c << "instance_name = rapport-" << port_ << "\n"
          << "protocols = imap\n"
          << "listen = 127.0.0.1\n"
          << "base_dir = " << d << "/run\n"
          << "state_dir = " << d << "/state\n"
          << "log_path = " << d << "/dovecot.log\n"
          << "mail_fsync = never\n"
          << "mail_location = maildir:~/Maildir\n"
          << "first_valid_uid = 1\n"
          << "first_valid_gid = 1\n"
          << "disable_plaintext_auth = no\n"
          << "auth_mechanisms = plain login" << (oauth ? " xoauth2 oauthbearer" : "") << "\n"
          << "mail_max_userip_connections = 1000\n"
          << "imap_idle_notify_interval = 1 secs\n"
          << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " << d
          << "/passwd\n" << (oauth ? "  mechanisms = plain login\n" : "") << "}\n";
        if (oauth)
            c << "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = " << d << "/oauth2.conf\n}\n";
        c
          << "userdb {\n  driver = passwd-file\n  args = username_format=%u " << d << "/passwd\n}\n"
          << "namespace inbox {\n  inbox = yes\n  separator = /\n";
        for (const auto& [folder, attribute] : options_.special_use)
            c << "  mailbox \"" << folder << "\" {\n    special_use = " << attribute << "\n  }\n";
        c << "}\n"
          << "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = "
          << port_ << "\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n    port = "
          << tls_port_ << "\n" << (options_.tls ? "    ssl = yes\n" : "") << "  }\n";
        if (!run_as_.empty()) c << "  chroot =\n";
        c << "}\n";
        // Refused logins are each delayed anyway (auth_failure_delay); the per-IP penalty on
        // top would grow to 15 s and make every later test of the same run slow.
        const char* anvil_no_penalty = "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n";
        if (!run_as_.empty()) {  // not root: every process runs as the current user
            c << "default_login_user = " << run_as_ << "\n"
              << "default_internal_user = " << run_as_ << "\n"
              << "service anvil {\n  chroot =\n" << (oauth ? anvil_no_penalty : "") << "}\n";
        } else if (oauth) {
            c << "service anvil {\n" << anvil_no_penalty << "}\n";
        }
        if (options_.tls) {
            c << "ssl = yes\nssl_cert = <" << d << "/server.pem\nssl_key = <" << d
              << "/server.key\nssl_min_protocol = TLSv1.2\n";
        } else {
            c << "ssl = no\n";
        }
        return c.str();
    }

    void start() {
        server_ = std::make_unique<Child>(
            std::vector<std::string>{"/usr/sbin/dovecot", "-F", "-c", config_path()},
            dir_ / "dovecot.out");
        const bool up = wait_for_port(port_, std::chrono::seconds(15)) &&
                        (!options_.tls || wait_for_port(tls_port_, std::chrono::seconds(15)));
        if (!up) {
            const std::string why = log();
            server_->stop();
            throw std::runtime_error("Dovecot did not start:\n" + why);
        }
    }

    Options options_;
    TempDir dir_;
    std::string home_;
    std::string run_as_;  // non-empty when not root
    uid_t uid_ = 0;
    gid_t gid_ = 0;
    int port_ = 0;
    int tls_port_ = 0;
    int counter_ = 0;
    std::unique_ptr<Child> server_;
};

}  // namespace rapport::test
