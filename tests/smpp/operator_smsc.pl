#!/usr/bin/perl
# An operator's SMSC and USSD gateway, played by Perl's Net::SMPP (Debian
# libnet-smpp-perl), for the gateway's SMPP tests and for people trying the
# gateway out. It listens on 127.0.0.1, accepts the gateway's binds and
# speaks SMPP 3.4 to them: USSD dialogues (ussd_service_op, its_session_info)
# and SMS (deliver_sm, submit_sm, delivery receipts).
#
#   operator_smsc.pl [--port N] [--password PW] [--system-id ID]
#       Test mode: commands on stdin, events on stdout (one per line).
#   operator_smsc.pl --phone +996555123456 [--code '*1313#'] [--port N]
#       A phone: type the USSD code to dial, then your answers; "end" hangs
#       up. The gateway's screens are printed as her phone would show them.
#
# Commands (test mode):
#   begin MSISDN SESSION DIALLED      she dials (PSSR indication, op 1)
#   answer MSISDN SESSION TEXT        her answer (USSR confirm, op 18), UTF-8
#   release MSISDN SESSION            the network ends the dialogue (end bit)
#   sms MSISDN TO REF TOTAL SEQ HEX   one MO part, UCS-2 bytes in hex (UDH added when TOTAL > 1)
#   dlr MESSAGE_ID STAT               a delivery receipt (stat: DELIVRD, UNDELIV, ...)
#   throttle N                        answer the next N submit_sm with ESME_RTHROTTLED
#   password PW                       the password binds must carry from now on
#   drop                              close every connection (a dropped link)
#   quit
# Events: "listening PORT", "bind TYPE SYSTEM_ID ok|refused", "submit JSON",
# "deliver_resp SEQ STATUS", "enquire_link", "unbind", "closed", "nack STATUS".
use strict;
use warnings;
use Net::SMPP;
use IO::Select;
use JSON::PP;
use Encode qw(decode encode);
use Getopt::Long;

$| = 1;
my ($port, $password, $system_id, $phone, $code) = (0, 'secret', 'SMSC', undef, '*1313#');
GetOptions('port=i' => \$port, 'password=s' => \$password, 'system-id=s' => \$system_id,
           'phone=s' => \$phone, 'code=s' => \$code) or die "bad options\n";

my $listener = Net::SMPP->new_listen('127.0.0.1', port => $port, smpp_version => 0x34)
    or die "cannot listen: $!\n";
my $select = IO::Select->new($listener, \*STDIN);
my %bound;          # fileno -> bind type
my %conn;           # fileno -> connection
my $throttle = 0;
my $next_id = 1000;
my $session_seq = 0;
my $stdin_buffer = '';
my $json = JSON::PP->new->utf8->canonical;

sub event { print join(' ', @_), "\n" }
if ($phone) {
    print "Operator SMSC on 127.0.0.1:", $listener->sockport, " (system_id any, password $password)\n";
    print "Point smpp.operators.<name>.port there, start the gateway, then dial $code\n";
} else {
    event('listening', $listener->sockport);
}

sub receiver {
    for my $fd (sort keys %bound) {
        return $conn{$fd} if $bound{$fd} eq 'bind_transceiver' || $bound{$fd} eq 'bind_receiver';
    }
    return undef;
}

sub text_of {
    my ($pdu) = @_;
    my $sm = $pdu->{short_message} // '';
    $sm = $pdu->{message_payload} if $sm eq '' && defined $pdu->{message_payload};
    if (($pdu->{esm_class} // 0) & 0x40) { my $l = ord(substr($sm, 0, 1)); $sm = substr($sm, $l + 1); }
    return decode('UCS-2BE', $sm) if ($pdu->{data_coding} // 0) == 8;
    return $sm;   # GSM default alphabet: the same bytes as ASCII for what tests send
}

sub deliver {
    my (%f) = @_;
    my $c = receiver() or do { event('no_receiver'); return };
    my $seq = $c->deliver_sm(async => 1, %f);
}

sub close_all {
    for my $fd (keys %conn) { $select->remove($conn{$fd}); $conn{$fd}->close; }
    %conn = (); %bound = ();
    event('closed');
}

sub ussd_text {
    my ($text) = @_;
    return (data_coding => 0x0F, short_message => $text) if $text =~ /^[\x20-\x7e]*$/;
    return (data_coding => 0x08, short_message => encode('UCS-2BE', $text));
}

sub command {
    my ($line) = @_;
    chomp $line;
    my ($cmd, @a) = split / /, $line, 7;
    return unless defined $cmd;
    if ($cmd eq 'begin' || $cmd eq 'answer' || $cmd eq 'release') {
        my ($msisdn, $session, $text) = ($a[0], $a[1], join(' ', @a[2 .. $#a]));
        $text = decode('UTF-8', $text);
        my $op = $cmd eq 'begin' ? 1 : 0x12;
        my $seq_octet = (($session_seq++ & 0x7f) << 1) | ($cmd eq 'release' ? 1 : 0);
        deliver(service_type => 'USSD', source_addr_ton => 1, source_addr_npi => 1,
                source_addr => $msisdn, dest_addr_ton => 0, dest_addr_npi => 0,
                destination_addr => $code, esm_class => 0,
                ussd_text($cmd eq 'release' ? '' : $text),
                ussd_service_op => chr($op), its_session_info => chr($session) . chr($seq_octet));
    } elsif ($cmd eq 'sms') {
        my ($msisdn, $to, $ref, $total, $n, $hex) = @a;
        my $body = pack('H*', $hex);
        my $esm = 0;
        if ($total > 1) { $body = pack('C6', 5, 0, 3, $ref, $total, $n) . $body; $esm = 0x40; }
        deliver(service_type => '', source_addr_ton => 1, source_addr_npi => 1,
                source_addr => $msisdn, destination_addr => $to, esm_class => $esm,
                data_coding => 8, short_message => $body);
    } elsif ($cmd eq 'dlr') {
        my ($id, $stat) = @a;
        my $text = "id:$id sub:001 dlvrd:" . ($stat eq 'DELIVRD' ? '001' : '000') .
                   " submit date:2611290000 done date:2611290001 stat:$stat err:000 text:";
        deliver(service_type => '', source_addr_ton => 1, source_addr_npi => 1,
                source_addr => '996555000000', destination_addr => '1313', esm_class => 0x04,
                data_coding => 0, short_message => $text,
                receipted_message_id => "$id\0", message_state => chr($stat eq 'DELIVRD' ? 2 : 5));
    } elsif ($cmd eq 'throttle') { $throttle = $a[0];
    } elsif ($cmd eq 'password') { $password = $a[0];
    } elsif ($cmd eq 'drop') { close_all();
    } elsif ($cmd eq 'quit') { exit 0;
    } else { event('unknown_command', $cmd); }
}

# The phone: what she types becomes USSD steps on one session.
my $phone_session = 7;
my $in_dialogue = 0;
sub keypress {
    my ($line) = @_;
    chomp $line;
    my $msisdn = $phone; $msisdn =~ s/^\+//;
    if ($line =~ /^\*/) { $in_dialogue = 1; $phone_session = ($phone_session + 1) % 256;
                          command("begin $msisdn $phone_session $line"); }
    elsif ($line eq 'end') { command("release $msisdn $phone_session") if $in_dialogue; $in_dialogue = 0; }
    elsif ($in_dialogue) { command("answer $msisdn $phone_session $line"); }
    else { print "(dial $code first)\n"; }
}

sub on_pdu {
    my ($c, $pdu) = @_;
    my $cmd = $pdu->{cmd};
    my $fd = fileno($c);
    if ($cmd == 0x00000009 || $cmd == 0x00000001 || $cmd == 0x00000002) {
        my $type = { 9 => 'bind_transceiver', 1 => 'bind_receiver', 2 => 'bind_transmitter' }->{$cmd};
        my $ok = ($pdu->{password} // '') eq $password;
        my $resp = $type . '_resp';
        $c->$resp(seq => $pdu->{seq}, system_id => $system_id, status => $ok ? 0 : 0x0E);
        $bound{$fd} = $type if $ok;
        if ($phone) { print $ok ? "(gateway bound: $type)\n" : "(bind refused: wrong password)\n"; }
        else { event('bind', $type, $pdu->{system_id}, $ok ? 'ok' : 'refused'); }
    } elsif ($cmd == 0x00000004) {
        if ($throttle > 0) {
            $throttle--;
            $c->submit_sm_resp(seq => $pdu->{seq}, message_id => '', status => 0x58);
            event('throttled') unless $phone;
            return;
        }
        my $id = 'M' . $next_id++;
        $c->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
        my $text = text_of($pdu);
        my $op = defined $pdu->{ussd_service_op} ? ord($pdu->{ussd_service_op}) : undef;
        if ($phone) {
            print "\n", encode('UTF-8', $text), "\n";
            if (defined $op && $op == 0x11) { print "(dialogue ended)\n"; $in_dialogue = 0; }
            elsif (defined $op) { print "> "; }
            return;
        }
        event('submit', $json->encode({
            message_id => $id, service_type => $pdu->{service_type},
            source => $pdu->{source_addr}, dest => $pdu->{destination_addr},
            dest_ton => $pdu->{dest_addr_ton}, esm_class => $pdu->{esm_class},
            data_coding => $pdu->{data_coding}, registered_delivery => $pdu->{registered_delivery},
            op => $op, session => defined $pdu->{its_session_info} ? unpack('H*', $pdu->{its_session_info}) : undef,
            text => $text, udh => (($pdu->{esm_class} & 0x40) ? unpack('H*', substr($pdu->{short_message}, 0, 6)) : undef),
        }));
    } elsif ($cmd == 0x80000005) {
        event('deliver_resp', $pdu->{seq}, $pdu->{status}) unless $phone;
    } elsif ($cmd == 0x00000015) {
        $c->enquire_link_resp(seq => $pdu->{seq});
        event('enquire_link') unless $phone;
    } elsif ($cmd == 0x00000006) {
        $c->unbind_resp(seq => $pdu->{seq});
        event('unbind') unless $phone;
    } elsif ($cmd == 0x80000000) {
        event('nack', $pdu->{status}) unless $phone;
    } else {
        $c->generic_nack(seq => $pdu->{seq}, status => 3);
    }
}

while (1) {
    for my $h ($select->can_read(1)) {
        if ($h == $listener) {
            my $c = $listener->accept or next;
            $conn{fileno($c)} = $c;
            $select->add($c);
        } elsif ($h == \*STDIN) {
            # sysread, not <STDIN>: a buffered read would hide lines from select.
            my $n = sysread(STDIN, $stdin_buffer, 4096, length $stdin_buffer);
            exit 0 unless $n;
            while ($stdin_buffer =~ s/^([^\n]*)\n//) {
                my $line = $1;
                $phone ? keypress($line) : command($line);
            }
        } else {
            my $pdu = $h->read_pdu();
            if (!$pdu) {
                my $fd = fileno($h);
                $select->remove($h); delete $conn{$fd}; delete $bound{$fd}; $h->close;
                event('closed') unless $phone;
                next;
            }
            on_pdu($h, $pdu);
        }
    }
}
