// Package export writes a run's logged metrics in the formats other tools
// read: TensorBoard event files and CSV.
//
// A TensorBoard event file is a sequence of TFRecords, each
//
//	uint64 length (little endian)
//	uint32 masked CRC-32C of the 8 length bytes
//	length bytes of data: one serialized tensorflow.Event protocol buffer
//	uint32 masked CRC-32C of the data
//
// where a masked CRC is ((crc >> 15) | (crc << 17)) + 0xa282ead8 and
// CRC-32C is the Castagnoli polynomial (tensorflow/core/lib/io/record_writer
// and the TFRecord format description). The first record is an Event with
// file_version "brain.Event:2"; every later one carries the step and a
// Summary of scalar values (tag, simple_value). The protocol buffers are
// written by hand from their field numbers (event.proto: wall_time 1
// double, step 2 int64, file_version 3 string, summary 5; summary.proto:
// value 1; Value: tag 1 string, simple_value 2 float), so urlvr needs no
// protobuf library; ReadEvents decodes the same subset, checking both CRCs
// of every record.
//
// CSV is one row per step with one column per metric, empty where a step
// did not log it.
package export
