// Table-driven cases for the SMS adapters, all run by the same harness:
// inbound callbacks, delivery reports, outbound requests and the
// aggregators' answers to them.
#include "adapters/sms_adapters.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "adapters/twilio/signature.hpp"
#include "common/crypto.hpp"
#include "common/form.hpp"
#include "support/http_client.hpp"

using gw::domain::message_status;

using namespace gw;
using namespace gw::adapters;

namespace {

struct request_case {
    std::string name;
    std::string method;  // GET or POST
    std::string target;  // path and query
    std::string content_type;
    std::string body;
};

struct inbound_case {
    request_case req;
    std::optional<std::vector<inbound_sms>> expected;  // nullopt: refused
    std::string error_contains;
};

struct report_case {
    request_case req;
    std::optional<std::vector<delivery_report>> expected;
    std::string error_contains;
};

struct send_case {
    std::string name;
    int status;
    std::string body;
    send_outcome::kind_t kind;
    std::string provider_id;
    bool opted_out = false;  // she opted out at the aggregator: no more SMS to her
};

http::request make(const request_case& c) {
    http::request r;
    r.method = c.method;
    r.target = c.target;
    http::split_target(r);
    if (!c.content_type.empty()) r.headers.emplace_back("Content-Type", c.content_type);
    r.body = c.body;
    return r;
}

void run(const sms_adapter& a, const std::vector<inbound_case>& cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(a.name() + " inbound: " + c.req.name);
        auto got = a.parse_inbound(make(c.req));
        if (!c.expected) {
            ASSERT_FALSE(got) << "accepted";
            EXPECT_NE(got.error().find(c.error_contains), std::string::npos) << got.error();
            continue;
        }
        ASSERT_TRUE(got) << got.error();
        ASSERT_EQ(got->size(), c.expected->size());
        for (std::size_t i = 0; i < got->size(); ++i) {
            EXPECT_EQ((*got)[i].message_id, (*c.expected)[i].message_id);
            EXPECT_EQ((*got)[i].from, (*c.expected)[i].from);
            EXPECT_EQ((*got)[i].to, (*c.expected)[i].to);
            EXPECT_EQ((*got)[i].text, (*c.expected)[i].text);
        }
    }
}

void run(const sms_adapter& a, const std::vector<report_case>& cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(a.name() + " report: " + c.req.name);
        auto got = a.parse_report(make(c.req));
        if (!c.expected) {
            ASSERT_FALSE(got) << "accepted";
            EXPECT_NE(got.error().find(c.error_contains), std::string::npos) << got.error();
            continue;
        }
        ASSERT_TRUE(got) << got.error();
        ASSERT_EQ(got->size(), c.expected->size());
        for (std::size_t i = 0; i < got->size(); ++i) {
            EXPECT_EQ((*got)[i].provider_id, (*c.expected)[i].provider_id);
            EXPECT_EQ((*got)[i].status, (*c.expected)[i].status);
        }
    }
}

domain::outbound_message message() {
    domain::outbound_message m;
    m.id = 42;
    m.channel = "x";
    m.recipient = "+996555123456";
    m.body = "Ваш код R-1234567";
    return m;
}

void run(const sms_adapter& a, const std::vector<send_case>& cases) {
    for (const auto& c : cases) {
        SCOPED_TRACE(a.name() + " send answer: " + c.name);
        auto out = a.read_send_response(c.status, c.body, message());
        EXPECT_EQ(out.kind, c.kind) << out.error;
        EXPECT_EQ(out.provider_id, c.provider_id);
        EXPECT_EQ(out.recipient_opted_out, c.opted_out);
    }
}

const std::string form_ct = "application/x-www-form-urlencoded";
const std::string json_ct = "application/json";

channel_settings settings() {
    channel_settings c;
    c.send_url = "http://127.0.0.1:9/send";
    c.send_username = "user";
    c.send_password = "secret-key";
    c.sender = "HOTLINE";
    c.report_url = "http://127.0.0.1:8080/sms/x/dlr";
    return c;
}

}  // namespace

TEST(AfricasTalkingSms, Inbound) {
    auto a = make_africastalking_sms();
    run(*a, std::vector<inbound_case>{
                {{"message", "POST", "/sms/africastalking", form_ct,
                  test::form({{"from", "+79161234567"},
                              {"to", "12345"},
                              {"text", "ПОМОЩЬ"},
                              {"id", "ATXid_1"},
                              {"date", "2026-11-25 10:00:00"},
                              {"linkId", "x"}})},
                 std::vector<inbound_sms>{{"ATXid_1", "+79161234567", "12345", "ПОМОЩЬ"}},
                 ""},
                {{"empty text is a message", "POST", "/sms/africastalking", form_ct,
                  "from=%2B996555123456&id=a2&text="},
                 std::vector<inbound_sms>{{"a2", "+996555123456", "", ""}},
                 ""},
                {{"no id", "POST", "/sms/africastalking", form_ct, "from=1&text=x"},
                 std::nullopt,
                 "id"},
                {{"no from", "POST", "/sms/africastalking", form_ct, "id=1&text=x"},
                 std::nullopt,
                 "from"},
                {{"JSON body", "POST", "/sms/africastalking", json_ct, "{}"},
                 std::nullopt,
                 "x-www-form-urlencoded"},
            });
    run(*a, std::vector<report_case>{
                {{"delivered", "POST", "/sms/africastalking/dlr", form_ct,
                  "id=ATXid_9&status=Success&phoneNumber=%2B996555123456"},
                 std::vector<delivery_report>{{"ATXid_9", message_status::delivered, ""}},
                 ""},
                {{"failed", "POST", "/sms/africastalking/dlr", form_ct,
                  "id=ATXid_9&status=Failed&failureReason=UserInBlacklist"},
                 std::vector<delivery_report>{{"ATXid_9", message_status::failed, ""}},
                 ""},
                {{"buffered", "POST", "/sms/africastalking/dlr", form_ct, "id=a&status=Buffered"},
                 std::vector<delivery_report>{{"a", message_status::sent, ""}},
                 ""},
                {{"sent by AT's network", "POST", "/sms/africastalking/dlr", form_ct,
                  "id=ATXid_9&status=Sent&phoneNumber=%2B996555123456&networkCode=99999"},
                 std::vector<delivery_report>{{"ATXid_9", message_status::sent, ""}},
                 ""},
                {{"submitted to the telco", "POST", "/sms/africastalking/dlr", form_ct,
                  "id=ATXid_9&status=Submitted&phoneNumber=%2B996555123456"},
                 std::vector<delivery_report>{{"ATXid_9", message_status::sent, ""}},
                 ""},
                {{"rejected by the telco: final", "POST", "/sms/africastalking/dlr", form_ct,
                  "id=ATXid_9&status=Rejected&failureReason=DeliveryFailure&phoneNumber=%"
                  "2B996555123456"},
                 std::vector<delivery_report>{{"ATXid_9", message_status::failed, ""}},
                 ""},
                {{"expired: final", "POST", "/sms/africastalking/dlr", form_ct,
                  "id=ATXid_9&status=Expired&phoneNumber=%2B996555123456"},
                 std::vector<delivery_report>{{"ATXid_9", message_status::failed, ""}},
                 ""},
                {{"absent subscriber: final", "POST", "/sms/africastalking/dlr", form_ct,
                  "id=ATXid_9&status=AbsentSubscriber&phoneNumber=%2B996555123456"},
                 std::vector<delivery_report>{{"ATXid_9", message_status::failed, ""}},
                 ""},
                {{"no status", "POST", "/sms/africastalking/dlr", form_ct, "id=a"},
                 std::nullopt,
                 "status"},
            });
    run(*a,
        std::vector<send_case>{
            {"accepted", 201,
             R"({"SMSMessageData":{"Message":"Sent to 1/1","Recipients":[{"statusCode":101,"number":"+996555123456","status":"Success","messageId":"ATXid_7"}]}})",
             send_outcome::sent, "ATXid_7"},
            {"invalid number", 201,
             R"({"SMSMessageData":{"Recipients":[{"statusCode":403,"status":"InvalidPhoneNumber","messageId":"None"}]}})",
             send_outcome::reject, ""},
            {"no balance: later", 201,
             R"({"SMSMessageData":{"Recipients":[{"statusCode":405,"status":"InsufficientBalance"}]}})",
             send_outcome::retry, ""},
            {"she blacklisted our sender", 201,
             R"({"SMSMessageData":{"Message":"Sent to 0/1 Total Cost: 0","Recipients":[{"statusCode":406,"number":"+996555123456","status":"UserInBlacklist","cost":"0","messageId":"None"}]}})",
             send_outcome::reject, "", true},
            {"server error", 500, "", send_outcome::retry, ""},
            {"bad credentials", 401, "The supplied authentication is invalid", send_outcome::reject,
             ""},
            {"garbage", 201, "<html>", send_outcome::retry, ""},
        });
    auto req = a->build_send(message(), settings());
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "http://127.0.0.1:9/send");
    EXPECT_NE(req.body.find("username=user"), std::string::npos);
    EXPECT_NE(req.body.find("to=%2B996555123456"), std::string::npos);
    EXPECT_NE(req.body.find("from=HOTLINE"), std::string::npos);
    bool api_key = false;
    for (auto& [k, v] : req.headers) api_key |= k == "apiKey" && v == "secret-key";
    EXPECT_TRUE(api_key);
}

TEST(TwilioSms, InboundReportsAndTwiml) {
    auto a = make_twilio_sms();
    EXPECT_TRUE(a->reply_in_response());
    run(*a, std::vector<inbound_case>{
                {{"message", "POST", "/sms/twilio", form_ct,
                  test::form({{"MessageSid", "SM1"},
                              {"AccountSid", "AC1"},
                              {"From", "+77011234567"},
                              {"To", "+15005550006"},
                              {"Body", "жардам"}})},
                 std::vector<inbound_sms>{{"SM1", "+77011234567", "+15005550006", "жардам"}},
                 ""},
                {{"no sid", "POST", "/sms/twilio", form_ct, "From=1&Body=x"},
                 std::nullopt,
                 "MessageSid"},
            });
    run(*a, std::vector<report_case>{
                {{"delivered", "POST", "/sms/twilio/dlr", form_ct,
                  "MessageSid=SM9&MessageStatus=delivered"},
                 std::vector<delivery_report>{{"SM9", message_status::delivered, ""}},
                 ""},
                {{"undelivered", "POST", "/sms/twilio/dlr", form_ct,
                  "MessageSid=SM9&MessageStatus=undelivered&ErrorCode=30003"},
                 std::vector<delivery_report>{{"SM9", message_status::failed, ""}},
                 ""},
                {{"sent: still on its way", "POST", "/sms/twilio/dlr", form_ct,
                  "SmsSid=SM9&SmsStatus=sent&MessageStatus=sent&To=%2B996555123456&MessageSid=SM9&"
                  "AccountSid=AC1&From=%2B15005550006&ApiVersion=2010-04-01"},
                 std::vector<delivery_report>{{"SM9", message_status::sent, ""}},
                 ""},
                {{"accepted by a messaging service", "POST", "/sms/twilio/dlr", form_ct,
                  "MessageSid=SM9&MessageStatus=accepted"},
                 std::vector<delivery_report>{{"SM9", message_status::sent, ""}},
                 ""},
                {{"canceled: final", "POST", "/sms/twilio/dlr", form_ct,
                  "MessageSid=SM9&MessageStatus=canceled"},
                 std::vector<delivery_report>{{"SM9", message_status::failed, ""}},
                 ""},
                {{"read implies delivered", "POST", "/sms/twilio/dlr", form_ct,
                  "MessageSid=SM9&MessageStatus=read"},
                 std::vector<delivery_report>{{"SM9", message_status::delivered, ""}},
                 ""},
                {{"failed", "POST", "/sms/twilio/dlr", form_ct,
                  "MessageSid=SM9&MessageStatus=failed&ErrorCode=30008"},
                 std::vector<delivery_report>{{"SM9", message_status::failed, ""}},
                 ""},
            });
    run(*a,
        std::vector<send_case>{
            {"created", 201, R"({"sid":"SMabc","status":"queued"})", send_outcome::sent, "SMabc"},
            {"bad number", 400, R"({"code":21211})", send_outcome::reject, ""},
            {"she texted STOP to our Twilio number", 400,
             R"({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})",
             send_outcome::reject, "", true},
            {"error body not JSON", 400, "Bad Request", send_outcome::reject, ""},
            {"too many requests", 429, "", send_outcome::retry, ""},
        });
    auto twiml = a->inbound_response(std::string("1 Да & <нет>"));
    EXPECT_EQ(twiml.content_type, "text/xml; charset=utf-8");
    EXPECT_EQ(twiml.body,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>1 Да &amp; "
              "&lt;нет&gt;</Message></Response>");
    EXPECT_NE(a->inbound_response(std::nullopt).body.find("<Response/>"), std::string::npos);
    auto s = settings();
    s.send_url = "http://127.0.0.1:9";
    s.send_username = "AC123";
    auto req = a->build_send(message(), s);
    EXPECT_EQ(req.url, "http://127.0.0.1:9/2010-04-01/Accounts/AC123/Messages.json");
    EXPECT_NE(req.body.find("StatusCallback="), std::string::npos);
}

TEST(TwilioSms, SignatureMatchesTwiliosPublishedExample) {
    // The example from Twilio's webhook security documentation.
    channel_settings c;
    c.auth = domain::auth_kind::scheme;
    c.auth_scheme = "twilio_signature";
    c.auth_token = "12345";
    c.public_url = "https://mycompany.com";
    http::request r;
    r.method = "POST";
    r.target = "/myapp.php?foo=1&bar=2";
    http::split_target(r);
    r.body =
        "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&"
        "To=%2B18005551212";
    r.headers.emplace_back("X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    EXPECT_TRUE(authenticate(r, c));
    r.headers.back().second = "0/KCTR6DLpKmkAf8muzZqo1nDgQ";  // one character short
    EXPECT_FALSE(authenticate(r, c));
    r.headers.back().second = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
    r.body += "&Extra=1";  // tampered parameters
    EXPECT_FALSE(authenticate(r, c));
    r.headers.clear();
    EXPECT_FALSE(authenticate(r, c));
}

TEST(ChannelAuth, TokenAndBasic) {
    channel_settings c;
    c.auth = domain::auth_kind::token;
    c.token = "s3cret";
    http::request r;
    r.method = "GET";
    r.target = "/sms/kannel?from=1&token=s3cret";
    http::split_target(r);
    EXPECT_TRUE(authenticate(r, c));
    r.target = "/sms/kannel?from=1&token=wrong";
    http::split_target(r);
    EXPECT_FALSE(authenticate(r, c));
    r.headers.emplace_back("X-Gateway-Token", "s3cret");
    EXPECT_TRUE(authenticate(r, c));
    c.token.clear();  // no secret configured: nothing gets in
    EXPECT_FALSE(authenticate(r, c));

    channel_settings b;
    b.auth = domain::auth_kind::basic;
    b.username = "infobip";
    b.password = "pw";
    http::request q;
    q.headers.emplace_back("Authorization", "Basic aW5mb2JpcDpwdw==");
    EXPECT_TRUE(authenticate(q, b));
    q.headers.back().second = "Basic aW5mb2JpcDp4eA==";
    EXPECT_FALSE(authenticate(q, b));
}

TEST(InfobipSms, Inbound) {
    auto a = make_infobip_sms();
    run(*a,
        std::vector<inbound_case>{
            {{"two messages", "POST", "/sms/infobip", json_ct,
              R"({"results":[{"messageId":"ib1","from":"996555123456","to":"41793026727","text":"HELP","cleanText":"","keyword":"HELP","receivedAt":"2026-11-25T10:00:00.000+0000","smsCount":1},{"messageId":"ib2","from":"79161234567","to":"41793026727","text":"2"}],"messageCount":2,"pendingMessageCount":0})"},
             std::vector<inbound_sms>{{"ib1", "+996555123456", "+41793026727", "HELP"},
                                      {"ib2", "+79161234567", "+41793026727", "2"}},
             ""},
            {{"truncated JSON", "POST", "/sms/infobip", json_ct, R"({"results":[{"messageId":)"},
             std::nullopt,
             "malformed JSON"},
            {{"no results", "POST", "/sms/infobip", json_ct, R"({"messages":[]})"},
             std::nullopt,
             "results"},
            {{"invalid UTF-8", "POST", "/sms/infobip", json_ct,
              "{\"results\":[{\"messageId\":\"x\",\"from\":\"1\",\"text\":\"\xFF\"}]}"},
             std::nullopt,
             "UTF-8"},
            {{"no messageId", "POST", "/sms/infobip", json_ct,
              R"({"results":[{"from":"996555123456","text":"x"}]})"},
             std::nullopt,
             "messageId"},
            {{"number instead of object", "POST", "/sms/infobip", json_ct, R"({"results":[1]})"},
             std::nullopt,
             "object"},
        });
    run(*a,
        std::vector<report_case>{
            {{"delivered", "POST", "/sms/infobip/dlr", json_ct,
              R"({"results":[{"messageId":"ib9","to":"996555123456","status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET"}}]})"},
             std::vector<delivery_report>{{"ib9", message_status::delivered, ""}},
             ""},
            {{"undeliverable", "POST", "/sms/infobip/dlr", json_ct,
              R"({"results":[{"messageId":"ib9","status":{"groupName":"UNDELIVERABLE","name":"UNDELIVERABLE_NOT_DELIVERED"}}]})"},
             std::vector<delivery_report>{{"ib9", message_status::failed, ""}},
             ""},
            {{"no status", "POST", "/sms/infobip/dlr", json_ct,
              R"({"results":[{"messageId":"ib9"}]})"},
             std::nullopt,
             "status"},
        });
    run(*a,
        std::vector<send_case>{
            {"accepted", 200,
             R"({"bulkId":"b","messages":[{"messageId":"ib5","status":{"groupName":"PENDING","name":"PENDING_ENROUTE"},"to":"996555123456"}]})",
             send_outcome::sent, "ib5"},
            {"rejected", 200,
             R"({"messages":[{"messageId":"ib6","status":{"groupName":"REJECTED","name":"REJECTED_DESTINATION"}}]})",
             send_outcome::reject, ""},
            {"unauthorized", 401, "{}", send_outcome::reject, ""},
            {"unavailable", 503, "", send_outcome::retry, ""},
        });
    auto req = a->build_send(message(), settings());
    EXPECT_EQ(req.url, "http://127.0.0.1:9/send/sms/2/text/advanced");
    EXPECT_NE(req.body.find(R"("to":"996555123456")"), std::string::npos) << req.body;
    EXPECT_NE(req.body.find(R"("notifyUrl":)"), std::string::npos);
}

TEST(KannelSms, Inbound) {
    auto a = make_kannel_sms();
    EXPECT_TRUE(a->reply_in_response());
    run(*a,
        std::vector<inbound_case>{
            {{"message", "GET",
              "/sms/kannel?from=%2B996555123456&to=1234&text=%D0%96%D0%90%D0%A0%D0%94%D0%90%D0%9C&"
              "id=7f3e&token=t",
              "", ""},
             std::vector<inbound_sms>{{"7f3e", "+996555123456", "1234", "ЖАРДАМ"}},
             ""},
            {{"no id", "GET", "/sms/kannel?from=1&text=x", "", ""}, std::nullopt, "id"},
            {{"bad escape", "GET", "/sms/kannel?from=%G1&id=1", "", ""}, std::nullopt, "percent"},
        });
    run(*a, std::vector<report_case>{
                {{"delivered", "GET", "/sms/kannel/dlr?ref=ob-42&status=1", "", ""},
                 std::vector<delivery_report>{{"ob-42", message_status::delivered, ""}},
                 ""},
                {{"smsc reject", "GET", "/sms/kannel/dlr?ref=ob-42&status=16", "", ""},
                 std::vector<delivery_report>{{"ob-42", message_status::failed, ""}},
                 ""},
                {{"smsc ack", "GET", "/sms/kannel/dlr?ref=ob-42&status=8", "", ""},
                 std::vector<delivery_report>{{"ob-42", message_status::sent, ""}},
                 ""},
            });
    run(*a,
        std::vector<send_case>{
            {"accepted", 202, "0: Accepted for delivery", send_outcome::sent, "ob-42"},
            {"queued", 202, "3: Queued for later delivery", send_outcome::sent, "ob-42"},
            {"bad credentials", 403, "Authorization failed for sendsms", send_outcome::reject, ""},
            {"down", 503, "", send_outcome::retry, ""},
        });
    auto req = a->build_send(message(), settings());
    EXPECT_EQ(req.method, "GET");
    EXPECT_NE(req.url.find("coding=2"), std::string::npos) << "Cyrillic needs UCS-2";
    EXPECT_NE(req.url.find("dlr-mask=31"), std::string::npos);
    EXPECT_NE(
        req.url.find(
            "dlr-url=http%3A%2F%2F127.0.0.1%3A8080%2Fsms%2Fx%2Fdlr%3Fref%3Dob-42%26status%3D%25d"),
        std::string::npos)
        << req.url;
    EXPECT_EQ(a->inbound_response(std::string("Привет")).body, "Привет");
}

TEST(TwilioSms, SignatureWithOrWithoutTheDefaultPort) {
    // Twilio's validators accept a signature over the URL with the scheme's
    // default port and without it; so do we, in both directions.
    auto sign = [](const std::string& url) {
        return base64_encode(hmac_sha1("12345", url + "MessageSid" + "SM1"));
    };
    http::request r;
    r.method = "POST";
    r.target = "/sms/twilio";
    http::split_target(r);
    r.body = "MessageSid=SM1";
    channel_settings c;
    c.auth = domain::auth_kind::scheme;
    c.auth_scheme = "twilio_signature";
    c.auth_token = "12345";
    for (const std::string configured :
         {"https://hotline.example.org", "https://hotline.example.org:443"}) {
        c.public_url = configured;
        for (const std::string signed_over : {"https://hotline.example.org/sms/twilio",
                                              "https://hotline.example.org:443/sms/twilio"}) {
            SCOPED_TRACE(configured + " signed over " + signed_over);
            r.headers = {{"X-Twilio-Signature", sign(signed_over)}};
            EXPECT_TRUE(authenticate(r, c));
        }
        r.headers = {{"X-Twilio-Signature", sign("https://hotline.example.org:8443/sms/twilio")}};
        EXPECT_FALSE(authenticate(r, c)) << "another port is another URL";
        r.headers = {{"X-Twilio-Signature", sign("http://hotline.example.org:80/sms/twilio")}};
        EXPECT_FALSE(authenticate(r, c)) << "another scheme is another URL";
    }
    EXPECT_EQ(twilio::url_forms("http://10.0.0.5"),
              (std::vector<std::string>{"http://10.0.0.5", "http://10.0.0.5:80"}));
    EXPECT_EQ(twilio::url_forms("HTTP://10.0.0.5:80/hotline"),
              (std::vector<std::string>{"HTTP://10.0.0.5:80/hotline", "HTTP://10.0.0.5/hotline"}));
    EXPECT_EQ(twilio::url_forms("https://[2001:db8::1]:8443"),
              (std::vector<std::string>{"https://[2001:db8::1]:8443"}));
    EXPECT_EQ(twilio::url_forms("https://[2001:db8::1]"),
              (std::vector<std::string>{"https://[2001:db8::1]", "https://[2001:db8::1]:443"}));
}

TEST(KannelSms, InboundInEveryCodingKannelPasses) {
    // get-url ...&text=%b&coding=%c&charset=%C. Without smsbox's mo-recode a
    // phone's UCS-2 message arrives as raw UTF-16BE bytes.
    auto a = make_kannel_sms();
    run(*a,
        std::vector<inbound_case>{
            {{"UCS-2 (ЖАРДАМ) without mo-recode", "GET",
              "/sms/kannel?from=996555000444&to=1414&text=%04%16%04%10%04+%04%14%04%10%04%1C"
              "&id=u1&coding=2&charset=UTF-16BE&smsc=FAKE",
              "", ""},
             std::vector<inbound_sms>{{"u1", "996555000444", "1414", "ЖАРДАМ"}},
             ""},
            {{"UCS-2 Kyrgyz and Latin with spaces", "GET",
              "/sms/kannel?from=1&text=%04%A3%04%E9%04%AF%00+%002&id=u2&coding=2&charset=UTF-16BE",
              "", ""},
             std::vector<inbound_sms>{{"u2", "1", "", "ңөү 2"}},
             ""},
            {{"UCS-2 charset without coding", "GET",
              "/sms/kannel?from=1&text=%04%21%04%22%04%1E%04%1F&id=u3&charset=ucs-2", "", ""},
             std::vector<inbound_sms>{{"u3", "1", "", "СТОП"}},
             ""},
            {{"UTF-16 surrogate pair and a broken one", "GET",
              "/sms/kannel?from=1&text=%D8%3D%DE%00%D8%3D&id=u4&coding=2&charset=UTF-16BE", "", ""},
             std::vector<inbound_sms>{{"u4", "1", "", "😀\xEF\xBF\xBD"}},
             ""},
            {{"with mo-recode: UTF-8, coding 0", "GET",
              "/sms/"
              "kannel?from=1&text=%D0%9F%D0%9E%D0%9C%D0%9E%D0%A9%D0%AC&id=u5&coding=0&charset=UTF-"
              "8",
              "", ""},
             std::vector<inbound_sms>{{"u5", "1", "", "ПОМОЩЬ"}},
             ""},
            {{"alt-charset WINDOWS-1251", "GET",
              "/sms/kannel?from=1&text=%CF%CE%CC%CE%D9%DC+%A8&id=u6&coding=0&charset=WINDOWS-1251",
              "", ""},
             std::vector<inbound_sms>{{"u6", "1", "", "ПОМОЩЬ Ё"}},
             ""},
            {{"ISO-8859-1", "GET",
              "/sms/kannel?from=1&text=caf%E9&id=u7&coding=0&charset=ISO-8859-1", "", ""},
             std::vector<inbound_sms>{{"u7", "1", "", "café"}},
             ""},
            {{"8-bit data that is not UTF-8 keeps every byte", "GET",
              "/sms/kannel?from=1&text=%E9t%E9&id=u8&coding=1&charset=8-BIT", "", ""},
             std::vector<inbound_sms>{{"u8", "1", "", "été"}},
             ""},
            {{"old get-url without coding: UTF-16BE recognised", "GET",
              "/sms/kannel?from=1&text=%04%1F%04%1E%04%1C%04%1E%04%29%04%2C&id=u9", "", ""},
             std::vector<inbound_sms>{{"u9", "1", "", "ПОМОЩЬ"}},
             ""},
            {{"unknown charset, not UTF-8", "GET",
              "/sms/kannel?from=1&text=%E9&id=u10&coding=0&charset=KOI8-R", "", ""},
             std::nullopt,
             "unsupported charset KOI8-R"},
        });
}

TEST(KannelSms, DeliveryReportUrlCarriesTheChannelToken) {
    auto a = make_kannel_sms();
    auto s = settings();
    s.auth = domain::auth_kind::token;
    s.token = "k+e2e/token";  // characters that must be encoded twice
    s.report_url = "http://127.0.0.1:9090/sms/kannel/dlr";
    auto req = a->build_send(message(), s);
    // The dlr-url Kannel gets (decoded once by Kannel): token, ref, status escape.
    auto q = parse_form(std::string_view(req.url).substr(req.url.find('?') + 1));
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->find("dlr-url"));
    EXPECT_EQ(*q->find("dlr-url"),
              "http://127.0.0.1:9090/sms/kannel/dlr?token=k%2Be2e%2Ftoken&ref=ob-42&status=%d");
    EXPECT_EQ(*q->find("from"), "HOTLINE");

    // A report_url that already carries a token is left alone.
    s.report_url = "https://kannel-facing.example.org/sms/kannel/dlr?token=other";
    q = parse_form(std::string_view(a->build_send(message(), s).url).substr(req.url.find('?') + 1));
    EXPECT_EQ(*q->find("dlr-url"),
              "https://kannel-facing.example.org/sms/kannel/dlr?token=other&ref=ob-42&status=%d");

    // What Kannel calls back (after replacing %d) passes the channel's check.
    http::request cb;
    cb.method = "GET";
    cb.target = "/sms/kannel/dlr?token=k%2Be2e%2Ftoken&ref=ob-42&status=1";
    http::split_target(cb);
    EXPECT_TRUE(authenticate(cb, s));
    auto reports = a->parse_report(cb);
    ASSERT_TRUE(reports);
    EXPECT_EQ((*reports)[0].status, message_status::delivered);
}

TEST(TwilioSms, SendsFromANumberOrAMessagingService) {
    auto a = make_twilio_sms();
    auto s = settings();
    s.sender = "+15005550006";
    auto f = parse_form(a->build_send(message(), s).body);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f->find("From"), "+15005550006");
    s.sender = "MG9752274e9e519418a7406176694466fa";
    f = parse_form(a->build_send(message(), s).body);
    EXPECT_EQ(f->find("From"), nullptr);
    EXPECT_EQ(*f->find("MessagingServiceSid"), "MG9752274e9e519418a7406176694466fa");
}

// Twilio's status callback for a message to someone who opted out with
// Twilio (error 21610): the report says so, and the gateway stops SMS to her.
TEST(TwilioSms, OptOutInAStatusCallbackIsReported) {
    auto a = make_twilio_sms();
    http::request req;
    req.method = "POST";
    req.path = req.target = "/sms/twilio/dlr";
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.body = "MessageSid=SM7&MessageStatus=undelivered&ErrorCode=21610";
    auto reports = a->parse_report(req);
    ASSERT_TRUE(reports);
    ASSERT_EQ(reports->size(), 1u);
    EXPECT_TRUE((*reports)[0].recipient_opted_out);
    EXPECT_EQ((*reports)[0].status, message_status::failed);
    req.body = "MessageSid=SM8&MessageStatus=undelivered&ErrorCode=30003";
    EXPECT_FALSE((*a->parse_report(req))[0].recipient_opted_out);
}
