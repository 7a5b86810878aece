"""Real-looking lines of every variant each parser claims, with Vietnamese text (percent-encoded UTF-8) in
URLs and user names. Tests assert on them, and the property tests mutate them."""

from __future__ import annotations

from pathlib import Path

MAPPINGS = Path(__file__).resolve().parents[2] / "collectors" / "mappings"

NGINX_COMBINED = ('100.72.14.9 - - [22/Nov/2026:15:04:05 +0700] "GET /thu-tuc-hanh-chinh/tra-cuu?tu_khoa=%C4%91%C4%83ng'
                  '+k%C3%BD+khai+sinh&trang=2 HTTP/1.1" 200 5120 "https://dichvucong.binhdinh.gov.vn/" '
                  '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"')
NGINX_MAIN_XFF = ('10.52.0.5 - - [22/Nov/2026:15:04:06 +0700] "POST /dang-nhap HTTP/1.1" 302 0 "-" '
                  '"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)" '
                  '"100.64.3.7, 10.52.0.4"')
NGINX_TIMINGS = ('10.52.0.5 - tr%E1%BA%A7n.v%C4%83n.b%C3%ACnh [22/Nov/2026:15:04:07 +0700] '
                 '"GET /ho-so/tra-cuu?ma_ho_so=000.00.31.H08-261122-0001 HTTP/2.0" 200 812 "-" '
                 '"Zalo android/12100" "203.0.113.50" '
                 'rt=0.153 uct="0.001" uht="0.150" urt="0.150, 0.002"')
NGINX_REQUEST_TIME = ('100.88.1.2 - - [22/Nov/2026:15:04:08 +0700] "GET /tin-tuc/th%C3%B4ng-b%C3%A1o HTTP/1.1" 200 '
                      '4410 "-" "Mozilla/5.0" 0.004')
APACHE_COMMON = '10.52.0.9 - nguy%E1%BB%85n.an [01/Jan/2026:00:00:01 +0700] "POST /dang-nhap HTTP/1.0" 302 -'
APACHE_VHOST = ('motcua.binhdinh.gov.vn:443 100.99.7.1 - - [22/Nov/2026:15:04:09 +0700] "GET /tiep-nhan/ho-so?'
                'nguoi_nop=L%C3%AA+Th%E1%BB%8B+H%E1%BB%93ng HTTP/1.1" 200 2301 "-" "Mozilla/5.0 (X11; Linux x86_64)"')
APACHE_MICROS = ('100.70.2.9 - - [22/Nov/2026:15:04:10 +0700] "GET /images/quoc-huy.png HTTP/1.1" 304 - "-" '
                 '"Mozilla/5.0" 1834')
COMBINED_LINES = [NGINX_COMBINED, NGINX_MAIN_XFF, NGINX_TIMINGS, NGINX_REQUEST_TIME, APACHE_COMMON, APACHE_VHOST,
                  APACHE_MICROS]

IIS_HEADER = ["#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0",
              "#Date: 2026-11-22 08:00:00"]
IIS_DEFAULT_FIELDS = ("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
                      "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken")
IIS_DEFAULT_LINE = ("2026-11-22 08:04:05 10.52.0.20 GET /DichVuCong/TraCuu.aspx "
                    "tuKhoa=c%E1%BA%A5p+ph%C3%A9p+x%C3%A2y+d%E1%BB%B1ng 443 BINHDINH\\nguy%E1%BB%85n.lan "
                    "100.64.9.9 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) https://dichvucong.binhdinh.gov.vn/ "
                    "200 0 0 187")
IIS_CUSTOM_FIELDS = ("#Fields: date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port "
                     "cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status sc-substatus "
                     "sc-win32-status sc-bytes cs-bytes time-taken X-Forwarded-For")
IIS_CUSTOM_LINE = ("2026-11-22 08:05:00.123 W3SVC2 DVC-IIS01 10.52.0.21 POST /api/ho-so/nop - 443 - 10.52.0.4 HTTP/1.1 "
                   "Mozilla/5.0+(Linux;+Android+14) ASP.NET_SessionId=abc - dichvucong.binhdinh.gov.vn 500 0 0 412 "
                   "2048 2310 203.0.113.9")
IIS_LINES = [*IIS_HEADER, IIS_DEFAULT_FIELDS, IIS_DEFAULT_LINE, IIS_CUSTOM_FIELDS, IIS_CUSTOM_LINE]

SSH_FAILED = ("Nov 22 15:04:05 dvc-web01 sshd[811]: Failed password for invalid user quantri from 198.51.100.23 "
              "port 50122 ssh2")
SSH_ACCEPTED = ("Nov  2 08:00:00 dvc-web01 sshd[9]: Accepted publickey for root from 10.52.0.5 port 4022 ssh2: "
                "ED25519 SHA256:abc")
SSH_INVALID = "Nov 22 15:04:06 dvc-web01 sshd[812]: Invalid user nguyễn from 198.51.100.23 port 50130"
SSH_TOO_MANY = ("Nov 22 15:04:07 dvc-web01 sshd[813]: error: maximum authentication attempts exceeded for root from "
                "198.51.100.23 port 50140 ssh2 [preauth]")
PAM_FAILURE = ("Nov 22 15:04:08 dvc-web01 sshd[814]: pam_unix(sshd:auth): authentication failure; "
               "logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.23  user=root")
PAM_SESSION = ("Nov 22 15:05:00 dvc-web01 CRON[77]: pam_unix(cron:session): session opened for user "
               "root(uid=0) by (uid=0)")
SUDO = ("Nov 22 15:06:00 dvc-web01 sudo:  tran.binh : TTY=pts/0 ; PWD=/home/tran.binh ; USER=root ; "
        "COMMAND=/usr/bin/cat /etc/shadow")
SU_FAILED = "Nov 22 15:07:00 dvc-web01 su[900]: FAILED SU (to root) tran.binh on pts/1"
RSYSLOG_ISO = ("2026-11-22T15:08:00.123456+07:00 dvc-web01 sshd[815]: Accepted password for lan from "
               "10.52.0.6 port 5000 ssh2")
RFC5424 = ('<38>1 2026-11-22T08:09:00.000Z dvc-web01.binhdinh.gov.vn sshd 816 - [origin ip="10.52.0.20"]'
           '[meta sequenceId="7"] \ufeffFailed password for root from 203.0.113.77 port 40000 ssh2')
RFC5424_NIL = "<13>1 - - - - - - a message from a sender without a clock"
RFC3164_PRI = "<86>Nov 22 15:10:00 lgsp-gw01 sudo: pam_unix(sudo:session): session closed for user root"
SYSLOG_LINES = [SSH_FAILED, SSH_ACCEPTED, SSH_INVALID, SSH_TOO_MANY, PAM_FAILURE, PAM_SESSION, SUDO, SU_FAILED,
                RSYSLOG_ISO, RFC5424, RFC5424_NIL, RFC3164_PRI]

NETFILTER_UFW = ("Nov 22 15:11:00 dvc-web01 kernel: [123456.789012] [UFW BLOCK] IN=eth0 OUT= "
                 "MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.5 DST=10.52.0.20 LEN=60 TOS=0x00 "
                 "PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0")
NETFILTER_ACCEPT = ("<4>Nov 22 15:11:01 fw-bdh kernel: IPT-ACCEPT: IN=ens3 OUT=ens4 SRC=100.64.1.1 DST=10.52.0.20 "
                    "LEN=52 TTL=63 ID=1 PROTO=UDP SPT=5353 DPT=53 LEN=32")
NETFILTER_LINES = [NETFILTER_UFW, NETFILTER_ACCEPT]

FORTIGATE_TRAFFIC = ('<189>date=2026-11-22 time=15:12:00 devname="FGT-BDH-01" devid="FG100FTK20000001" '
                     'eventtime=1795335120123456789 tz="+0700" logid="0000000013" type="traffic" subtype="forward" '
                     'level="notice" vd="root" srcip=203.0.113.9 srcport=51234 srcintf="wan1" srcintfrole="wan" '
                     'dstip=10.52.0.10 dstport=443 dstintf="internal" dstintfrole="lan" srccountry="Reserved" '
                     'sessionid=123456 proto=6 action="deny" policyid=0 policytype="policy" service="HTTPS" '
                     'sentbyte=0 rcvdbyte=0 sentpkt=0 rcvdpkt=0 crscore=30 craction=131072 crlevel="high"')
FORTIGATE_UTM = ('date=2026-11-22 time=15:12:05 devname="FGT-BDH-01" devid="FG100FTK20000001" tz="+0700" '
                 'logid="0419016384" type="utm" subtype="ips" level="alert" srcip=198.51.100.7 dstip=10.52.0.10 '
                 'srcport=40000 dstport=80 proto=6 action="dropped" attack="SQL.Injection" attackid=15621 '
                 'msg="web_misc: SQL.Injection," user="nguy\\"en" hostname="dichvucong.binhdinh.gov.vn" '
                 'url="/tra-cuu?q=%27+OR+1%3D1"')
FORTIGATE_SYSLOG_HEADER = ("Nov 22 15:12:06 FGT-BDH-01 date=2026-11-22 time=15:12:06 devname=\"FGT-BDH-01\" "
                           "devid=\"FG100FTK20000001\" logid=\"0100032001\" type=\"event\" subtype=\"system\" "
                           "level=\"information\" user=\"admin\" action=\"login\" status=\"success\" srcip=10.52.0.2")
FORTIGATE_LINES = [FORTIGATE_TRAFFIC, FORTIGATE_UTM, FORTIGATE_SYSLOG_HEADER]

MODSEC_V3_JSON = ('{"transaction":{"client_ip":"203.0.113.5","time_stamp":"Sun Nov 22 15:13:00 2026","server_id":"x",'
                  '"client_port":51234,"host_ip":"10.52.0.10","host_port":443,"unique_id":"179533464512.345678",'
                  '"request":{"method":"GET","http_version":1.1,"uri":"/tra-cuu?ma=1%27%20or%201=1--&ten=Ng%C3%B4",'
                  '"headers":{"Host":"dichvucong.binhdinh.gov.vn","User-Agent":"sqlmap/1.8.11"}},'
                  '"response":{"http_code":403,"headers":{}},"producer":{"modsecurity":"ModSecurity v3.0.12"},'
                  '"messages":[{"message":"SQL Injection Attack Detected via libinjection","details":{"match":"x",'
                  '"ruleId":"942100","file":"REQUEST-942-APPLICATION-ATTACK-SQLI.conf","lineNumber":"46",'
                  '"data":"Matched Data: s&1c","severity":"2","ver":"OWASP_CRS/4.0.0","rev":"",'
                  '"tags":["application-multi","attack-sqli","paranoia-level/1"],"maturity":"0","accuracy":"0"}}]}}')
MODSEC_V2_JSON = ('{"transaction":{"time":"22/Nov/2026:15:13:05.123456 +0700","transaction_id":"YF4xAAAB",'
                  '"remote_address":"198.51.100.8","remote_port":40001,"local_address":"10.52.0.10","local_port":80},'
                  '"request":{"request_line":"GET /../../etc/passwd HTTP/1.1",'
                  '"headers":{"Host":"motcua.binhdinh.gov.vn","User-Agent":"curl/8.5"}},"response":{"status":403},'
                  '"audit_data":{"messages":["Warning. Matched '
                  'phrase \\"etc/passwd\\" at REQUEST_URI. [file \\"x.conf\\"] [line \\"1\\"] [id \\"930120\\"] [msg '
                  '\\"OS File Access Attempt\\"] [severity \\"CRITICAL\\"] [ver \\"OWASP_CRS/3.3.5\\"] [tag '
                  '\\"attack-lfi\\"]"],"action":{"intercepted":true,"phase":2}}}')
MODSEC_NATIVE = """--a1b2c3d4-A--
[22/Nov/2026:15:13:10 +0700] YF4xBBBB 203.0.113.6 51000 10.52.0.10 443
--a1b2c3d4-B--
GET /tai-lieu/%C4%91%E1%BA%A5t-%C4%91ai.pdf?id=1%20UNION%20SELECT%201 HTTP/1.1
Host: dichvucong.binhdinh.gov.vn
User-Agent: Mozilla/5.0 zgrab/0.x

--a1b2c3d4-F--
HTTP/1.1 403 Forbidden
Content-Type: text/html

--a1b2c3d4-H--
Message: Warning. detected SQLi using libinjection. [file "REQUEST-942.conf"] [line "46"] [id "942100"] \
[msg "SQL Injection Attack Detected via libinjection"] [severity "CRITICAL"] [ver "OWASP_CRS/4.0.0"] [tag "attack-sqli"]
Action: Intercepted (phase 2)
Producer: ModSecurity for Apache/2.9.7 (http://www.modsecurity.org/); OWASP_CRS/4.0.0.

--a1b2c3d4-Z--
"""
MODSEC_V3_NATIVE = """---Xk2PqRsT---A--
[22/Nov/2026:15:13:20 +0700] 179533465012.111111 100.64.5.5 52000 10.52.0.10 443
---Xk2PqRsT---B--
POST /dang-nhap HTTP/1.1
Host: motcua.binhdinh.gov.vn

---Xk2PqRsT---F--
HTTP/1.1 200
---Xk2PqRsT---H--
ModSecurity: Warning. Matched "Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `5' ) \
[id "949110"] [msg "Inbound Anomaly Score Exceeded"] [severity "2"] [ver "OWASP_CRS/4.0.0"] [tag "attack-generic"]

---Xk2PqRsT---Z--
"""

#: A login form posted with SQL in its user name: the attack is in section C only, the target is plain.
MODSEC_NATIVE_POST = """--b5c6d7e8-A--
[22/Nov/2026:15:14:10 +0700] YF4xCCCC 203.0.113.7 51010 10.52.0.10 443
--b5c6d7e8-B--
POST /dang-nhap HTTP/1.1
Host: dichvucong.binhdinh.gov.vn
Content-Type: application/x-www-form-urlencoded

--b5c6d7e8-C--
ten_dang_nhap=admin%27%20OR%20%271%27%3D%271%27--&mat_khau=x

--b5c6d7e8-F--
HTTP/1.1 200 OK

--b5c6d7e8-Z--
"""
MODSEC_V3_JSON_POST = ('{"transaction":{"client_ip":"203.0.113.8","time_stamp":"Sun Nov 22 15:14:20 2026",'
                       '"client_port":51020,"host_ip":"10.52.0.10","host_port":443,"unique_id":"179533466012.1",'
                       '"request":{"method":"POST","http_version":1.1,"uri":"/api/ho-so/tim-kiem",'
                       '"headers":{"Host":"dichvucong.binhdinh.gov.vn","Content-Type":"application/json"},'
                       '"body":"{\\"ma_ho_so\\":\\"1 UNION SELECT mat_khau FROM nguoi_dung--\\"}"},'
                       '"response":{"http_code":200,"headers":{}},"messages":[]}}')

ONESTOP = (MAPPINGS / "samples" / "onestop.jsonl").read_text(encoding="utf-8").splitlines()
EOFFICE = (MAPPINGS / "samples" / "eoffice.jsonl").read_text(encoding="utf-8").splitlines()
GATEWAY = (MAPPINGS / "samples" / "gateway.jsonl").read_text(encoding="utf-8").splitlines()

#: format → lines that must all become events (record formats: whole records).
VALID: dict[str, list[str]] = {
    "nginx": COMBINED_LINES, "apache": COMBINED_LINES, "sshd": SYSLOG_LINES, "syslog": SYSLOG_LINES + NETFILTER_LINES,
    "fortigate": FORTIGATE_LINES, "modsecurity": [MODSEC_V3_JSON, MODSEC_V2_JSON], "onestop": ONESTOP,
    "eoffice": EOFFICE, "gateway": GATEWAY, "iis": [IIS_DEFAULT_LINE],
}
