"""Capture sources: pcap and pcapng files, compressed files, stdin, merged inputs."""

from .merge import FrameReader, read_frames
from .opener import CaptureSource, open_capture

__all__ = ["CaptureSource", "FrameReader", "open_capture", "read_frames"]
