#!/usr/bin/env python3
# t/fuzz/corpus-door.py: writes the seed corpus of fuzz-door into
# t/fuzz/corpus/door/ (valid requests and edge cases of lib/door.h's
# wire format). Run from the top of the tree.
import os
import struct

D = os.path.join('t', 'fuzz', 'corpus', 'door')


def req(fds=b'', args=(), env=(), nargs=None, nenv=None, blen=None, magic=b'DR1', nfds=None, tail=b''):
    body = b''.join(s + b'\0' for s in list(args) + list(env))
    return (magic + bytes([len(fds) if nfds is None else nfds]) + bytes(fds)
            + struct.pack('>HHI', len(args) if nargs is None else nargs,
                          len(env) if nenv is None else nenv,
                          len(body) if blen is None else blen)
            + body + tail)


seeds = {
    'empty': req(),
    'smtpd-enqueue': req(b'\x00\x01\x03', [], [b'PATH=/usr/bin:/bin', b'TCPREMOTEIP=192.0.2.7',
                                               b'SMTPAUTHUSER=alice@example.org']),
    'args-env': req(b'\x00\x01', [b'-v', b'', b'a b'], [b'A=1', b'B=', b'C==x']),
    'list-and-var': req(b'', [b'TCP*, A,B\tC*', b'*'], [b'TCPREMOTEIP=1', b'AB=2', b'C=3']),
    'fds-max': req(bytes([0, 1] + list(range(3, 17)))),
    'fd-top': req(bytes([31])),
    'fd-over-top': req(bytes([32])),
    'fd-2': req(bytes([2])),
    'fd-twice': req(bytes([3, 3])),
    'nfds-17': req(bytes(range(17))),
    'bad-magic': req(magic=b'DR2'),
    'garbage': b'GET / HTTP/1.0\r\n\r\n',
    'header-only': req(b'\x00', [b'x'])[:13],
    'truncated-body': req(b'', [b'abcdef'])[:-3],
    'trailing-byte': req(b'', [b'a'], tail=b'Z'),
    'no-nul': req(b'', [], nargs=1, blen=3, tail=b'abc'),
    'count-too-high': req(b'', [b'a'], nargs=2),
    'count-too-low': req(b'', [b'a', b'b'], nargs=1),
    'env-no-eq': req(b'', [], [b'NOEQUALS']),
    'env-empty-name': req(b'', [], [b'=x']),
    'len-over-max': req(b'', [b'a'], blen=65537),
    'args-max': req(b'', [b''] * 256),
    'args-257': req(b'', [b''] * 257),
    'env-max': req(b'', [], [b'X='] * 512),
}
os.makedirs(D, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(D, name), 'wb') as f:
        f.write(data)
