#include "app/submission_service.hpp"

#include <system_error>

#include "app/daemon_state.hpp"
#include "app/log.hpp"
#include "app/imap_login.hpp"
#include "app/secret_command.hpp"
#include "app/worker_pool.hpp"
#include "smtp/relay_client.hpp"
#include "smtp/smtp_listener.hpp"
#include "smtp/submission_plan.hpp"
#include "token_file.hpp"

namespace rapport {
namespace {

struct Outcome {
    smtp::RelayResult result;
    std::vector<CcSuggestion> added;
    std::string message_id;
    std::string subject;
    bool header_extended = true;
    std::size_t recipients = 0;
};

smtp::RelayRequest::Security security_of(Security s) {
    switch (s) {
        case Security::tls: return smtp::RelayRequest::Security::tls;
        case Security::starttls: return smtp::RelayRequest::Security::starttls;
        case Security::none: return smtp::RelayRequest::Security::none;
    }
    return smtp::RelayRequest::Security::tls;
}

// Runs on a worker: everything it touches was captured by value.
Outcome plan_and_relay(const smtp::Envelope& envelope, const std::string& data,
                       const std::shared_ptr<const AccountDirectory>& directory, const ServerEndpoint& endpoint) {
    Outcome out;
    smtp::SubmissionPlan plan = smtp::plan_submission(data, envelope, *directory);
    out.added = plan.added;
    out.message_id = plan.message_id;
    out.subject = plan.subject;
    out.header_extended = plan.header_extended;
    out.recipients = plan.recipients.size();
    smtp::RelayRequest request;
    request.host = endpoint.host;
    request.port = endpoint.port;
    request.security = security_of(endpoint.security);
    request.username = endpoint.username;
    request.ca_file = endpoint.ca_file;
    request.mail_from = envelope.mail_from;
    request.recipients = plan.recipients;
    request.message = &plan.message;
    if (endpoint.auth == Auth::xoauth2) request.auth = smtp::RelayRequest::Auth::xoauth2;
    if (endpoint.auth == Auth::oauthbearer) request.auth = smtp::RelayRequest::Auth::oauthbearer;
    if (!endpoint.username.empty()) {
        // Run for every message: an access token may have expired since the last one.
        if (!endpoint.password.command.empty()) {
            std::string error;
            auto password = run_password_command(endpoint.password.command, kSecretCommandTimeout, error,
                                                 secret_name(endpoint));
            if (!password) {
                out.result.code = 454;
                out.result.text = "4.7.0 The smtp password_command failed (" + error + "); the message was not sent";
                return out;
            }
            request.password = *password;
        } else {
            request.password = endpoint.password.value;
        }
    }
    out.result = smtp::relay(request);
    return out;
}

}  // namespace

SubmissionListeners::SubmissionListeners(boost::asio::io_context& io, WorkerPool& pool, DaemonState& state)
    : io_(io), pool_(pool), state_(state) {
    smtp::relay_global_init();  // curl_global_init is not thread-safe: once, here, on the main thread
}

SubmissionListeners::~SubmissionListeners() { stop(); }

void SubmissionListeners::start() {
    const auto& settings = *state_.settings;
    bool any = false;
    for (const auto& m : settings.mailboxes) any = any || m.submission.has_value();
    if (!any) return;
    std::string token;
    try {
        token = api::load_or_create_token(settings.token_file).token;
    } catch (const std::exception& e) {
        log::error(std::string("submission: cannot read the API token, not listening: ") + e.what());
        return;
    }
    for (const auto& m : settings.mailboxes) {
        if (!m.submission || !m.smtp) continue;
        smtp::ListenerOptions options;
        options.port = static_cast<std::uint16_t>(m.submission->port);
        options.session.token = token;
        options.session.max_message_size = m.submission->max_message_size;
        options.session.max_recipients = m.submission->max_recipients;
        options.max_connections = m.submission->max_connections;
        const std::string id = m.id;
        options.log = [id](const std::string& line) { log::info("submission " + id + ": " + line); };
        auto deliver = [this, id](smtp::Envelope envelope, std::string data, smtp::DeliverDone done) {
            // The current settings and rules: a reload applies to the next message.
            const Mailbox* mailbox = nullptr;
            for (const auto& mb : state_.settings->mailboxes)
                if (mb.id == id) mailbox = &mb;
            if (!mailbox || !mailbox->smtp) {
                done(451, "4.3.5 Mailbox " + id + " has no smtp settings any more; the message was not sent");
                return;
            }
            auto directory = state_.directory;
            const ServerEndpoint endpoint = *mailbox->smtp;
            auto env = std::make_shared<smtp::Envelope>(std::move(envelope));
            auto body = std::make_shared<std::string>(std::move(data));
            pool_.submit<Outcome>(
                alive_,
                [env, body, directory, endpoint]() {
                    try {
                        return plan_and_relay(*env, *body, directory, endpoint);
                    } catch (const std::exception& e) {
                        // The client must hear back: a temporary failure keeps its message.
                        Outcome o;
                        o.result.code = 451;
                        o.result.text = std::string("4.3.0 Internal error: ") + e.what() + "; the message was not sent";
                        return o;
                    }
                },
                [this, id, done](Outcome o) {
                    std::string added;
                    for (const auto& a : o.added) added += (added.empty() ? "" : ", ") + a.address;
                    log::info("submission " + id + ": <" + o.message_id + "> to " + std::to_string(o.recipients) +
                              " recipients" + (added.empty() ? "" : " (owners added: " + added + ")") + ": " +
                              std::to_string(o.result.code) + (o.result.accepted ? " relayed" : " not relayed"));
                    if (o.result.accepted) {
                        // Before the 250: the client's Sent copy may be seen right after it.
                        state_.relayed.add(o.message_id);
                        if (!o.added.empty()) {
                            nlohmann::json list = nlohmann::json::array();
                            std::string names;
                            for (const auto& a : o.added) {
                                list.push_back(a.address);
                                names += (names.empty() ? "" : " and ") + a.name;
                            }
                            const std::string subject = o.subject.empty() ? "(no subject)" : o.subject;
                            const std::string how = o.header_extended ? "added to Cc" : "copied blindly (Bcc)";
                            try {
                                state_.notify("owner_added", o.added.front().account,
                                              names + " " + how + " on \"" + subject + "\" (" +
                                                  o.added.front().reason + ").",
                                              {{"message_id", o.message_id}, {"added", list}});
                            } catch (const std::exception& e) {
                                log::error(std::string("submission: owner_added not stored: ") + e.what());
                            }
                        }
                    }
                    done(o.result.code, o.result.text);
                });
        };
        try {
            listeners_.push_back(std::make_unique<smtp::SmtpListener>(io_, std::move(options), deliver));
        } catch (const std::exception& e) {
            log::error("submission " + id + ": cannot listen on 127.0.0.1:" + std::to_string(m.submission->port) +
                       " (" + e.what() + "); is another program using that port? Set submission.port in " +
                       state_.settings_path);
            continue;
        }
        std::string where;
        for (const auto& e : listeners_.back()->endpoints()) where += (where.empty() ? "" : ", ") + e;
        log::info("submission " + id + ": SMTP listening on " + where + ", relaying through " + m.smtp->host + ":" +
                  std::to_string(m.smtp->port));
    }
}

void SubmissionListeners::stop() {
    for (auto& l : listeners_) l->stop();
    listeners_.clear();
}

}  // namespace rapport
