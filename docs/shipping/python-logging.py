# Python applications: the standard library's SysLogHandler, stock settings, to the Canh Gác syslog listener.
import logging
import logging.handlers
import socket

SOC = ("soc.example.gov.vn", 5514)  # collection.syslog: host and tcp_port / udp_port of canhgac serve
handler = logging.handlers.SysLogHandler(address=SOC, socktype=socket.SOCK_STREAM)  # SOCK_DGRAM: UDP
log = logging.getLogger("dvc")
log.setLevel(logging.INFO)
log.addHandler(handler)
