"""A local stand-in for WeChat Pay API v3, served over HTTP, that speaks the real protocol as
WeChat Pay documents it: it checks our `Authorization: WECHATPAY2-SHA256-RSA2048 ...` signature
with the merchant's public key, signs every answer with the platform key (Wechatpay-Timestamp,
-Nonce, -Signature, -Serial), and makes notifications whose resource is AEAD_AES_256_GCM-encrypted
with the APIv3 key. It knows nothing of our code."""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

AUTH = re.compile(r'^WECHATPAY2-SHA256-RSA2048 (.+)$')
MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
PLATFORM_SERIAL = "PUB_KEY_ID_0114232134912410000000000000"
APIV3_KEY = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def sign(key, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class WeChatPayDouble:
    merchant_public_key: object
    platform_key: object = field(default_factory=new_key)
    trades: dict = field(default_factory=dict)
    refunds: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # requests whose signature did not verify

    # --- the HTTP side ----------------------------------------------------------------------

    def signed_headers(self, body: bytes, key=None) -> dict:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": PLATFORM_SERIAL,
                "Wechatpay-Signature": sign(key or self.platform_key, message)}

    def _answer(self, status: int, payload: dict | None) -> Response:
        body = json.dumps(payload).encode() if payload is not None else b""
        return Response(body, status, headers={"Content-Type": "application/json", **self.signed_headers(body)})

    def _verify_caller(self, request: Request) -> bool:
        match = AUTH.match(request.headers.get("Authorization", ""))
        if not match:
            return False
        parts = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if parts.get("mchid") != MCHID or parts.get("serial_no") != SERIAL:
            return False
        path = request.full_path.rstrip("?") if request.query_string else request.path
        message = (f"{request.method}\n{path}\n{parts['timestamp']}\n{parts['nonce_str']}\n".encode()
                   + request.get_data() + b"\n")
        try:
            self.merchant_public_key.verify(base64.b64decode(parts["signature"]), message, padding.PKCS1v15(),
                                            hashes.SHA256())
            return True
        except Exception:
            return False

    def __call__(self, environ, start_response):
        request = Request(environ)
        if not self._verify_caller(request):
            self.refused.append(request.path)
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})(environ, start_response)
        return self._route(request)(environ, start_response)

    def _route(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/v3/pay/transactions/native":
            data = request.get_json()
            self.trades[data["out_trade_no"]] = {"total": data["amount"]["total"], "state": "NOTPAY",
                                                 "notify_url": data["notify_url"], "mchid": data["mchid"]}
            return self._answer(200, {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_hex(4)}"})
        found = re.fullmatch(r"/v3/pay/transactions/out-trade-no/(\w+)", request.path)
        if request.method == "GET" and found and request.args.get("mchid") == MCHID:
            trade = self.trades.get(found.group(1))
            if trade is None:
                return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"})
            return self._answer(200, self._transaction(found.group(1)))
        if request.method == "POST" and request.path == "/v3/refund/domestic/refunds":
            data = request.get_json()
            self.refunds.append(data)
            return self._answer(200, {"refund_id": "50000000382019052709732678859", "out_refund_no": data["out_refund_no"],
                                      "status": "PROCESSING", "amount": {"refund": data["amount"]["refund"]}})
        return self._answer(404, {"code": "NOT_FOUND", "message": "no such API"})

    # --- the payer's side -------------------------------------------------------------------

    def _transaction(self, out_trade_no: str) -> dict:
        trade = self.trades[out_trade_no]
        return {"appid": APPID, "mchid": trade["mchid"], "out_trade_no": out_trade_no,
                "transaction_id": trade.get("transaction_id", ""), "trade_type": "NATIVE",
                "trade_state": trade["state"], "trade_state_desc": "支付成功" if trade["state"] == "SUCCESS" else "",
                "amount": {"total": trade["total"], "payer_total": trade["total"], "currency": "CNY"}}

    def pay(self, out_trade_no: str, state: str = "SUCCESS") -> None:
        trade = self.trades[out_trade_no]
        trade["state"] = state
        trade.setdefault("transaction_id", "42000" + secrets.token_hex(12))

    def notification(self, out_trade_no: str, key=None, apiv3_key: str = APIV3_KEY) -> tuple[dict, bytes]:
        """The notification WeChat Pay POSTs to notify_url: headers and raw body."""
        nonce = secrets.token_hex(6)
        plain = json.dumps(self._transaction(out_trade_no)).encode()
        ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plain, b"transaction")
        body = json.dumps({
            "id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
            "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
            "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": "transaction",
                         "nonce": nonce}}).encode()
        return {"Content-Type": "application/json", **self.signed_headers(body, key)}, body


class Served:
    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join()
