#!/usr/bin/python3
"""A generic gRPC client on raw bytes (no protoc): python3-grpcio as a second client for the ITs.

usage: grpc_client.py HOST:PORT unary|stream /package.Service/Method MESSAGE
Prints each response message on its own line, then "status CODE_NAME DETAILS"; exits 0 when the
call ended with a status (OK or not), 2 on bad usage.
"""
import sys

import grpc


def identity(b):
    return b


def main(argv):
    if len(argv) != 5 or argv[2] not in ("unary", "stream"):
        print(__doc__, file=sys.stderr)
        return 2
    target, kind, method, message = argv[1], argv[2], argv[3], argv[4].encode("utf-8")
    with grpc.insecure_channel(target) as channel:
        try:
            if kind == "unary":
                call = channel.unary_unary(method, request_serializer=identity, response_deserializer=identity)
                print(call(message, timeout=10).decode("utf-8"))
            else:
                call = channel.unary_stream(method, request_serializer=identity, response_deserializer=identity)
                for reply in call(message, timeout=10):
                    print(reply.decode("utf-8"))
            print("status OK")
        except grpc.RpcError as e:
            print("status %s %s" % (e.code().name, e.details()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
