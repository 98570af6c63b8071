"""Capture sources: pcap and pcapng files, compressed files, stdin, merged inputs."""

from vrrpscope.capture.merge import FrameReader, read_frames
from vrrpscope.capture.opener import CaptureSource, open_capture

__all__ = ["CaptureSource", "FrameReader", "open_capture", "read_frames"]
